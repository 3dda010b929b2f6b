#include "storage/import/routed_experts.h"

#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/common/error.h"
#include "storage/import/codecs.h"
#include "storage/import/line_reader.h"

namespace moescope::storage::import {
namespace {

using nlohmann::json;

// A response line's routing, decoded: [tokens][layers][k].
struct LineRouting {
  std::vector<int32_t> ids;
  int64_t tokens = 0;
  int32_t layers = 0, k = 0;
};

const json* find_path(const json& j, std::initializer_list<const char*> keys) {
  const json* at = &j;
  for (const char* k : keys) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(k);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

std::optional<int64_t> int_at(const json& j, std::initializer_list<const char*> keys) {
  const json* v = find_path(j, keys);
  if (v == nullptr || !v->is_number_integer()) return std::nullopt;
  return v->get<int64_t>();
}

class RoutedExpertsFile : public RoutingFile {
 public:
  RoutedExpertsFile(std::filesystem::path path, int32_t layers, int32_t topk)
      : path_(std::move(path)), layers_(layers), topk_(topk) {}

  std::string format() const override {
    if (sglang_ && vllm_) return "routed-experts";
    return vllm_ ? "routed-experts-vllm" : "routed-experts-sglang";
  }

  void read(RoutingVisitor& v) override {
    // A line is one response; 1 GiB bounds the memory of the largest request we take.
    LineReader lines(path_, size_t(1) << 30);
    std::string line;
    int32_t request = 0;
    int32_t step = 0;
    int64_t responses = 0;
    while (lines.next(line)) {
      const int64_t n = lines.line_number();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object())
        fail("{}: line {} is not a JSON object (truncated or not JSONL?)", path_.string(), n);
      ++responses;
      std::optional<std::string> prompt;
      if (const json* p = find_path(j, {"prompt"}); p && p->is_string()) prompt = p->get<std::string>();
      std::string rid;
      if (const json* id = find_path(j, {"meta_info", "id"}); id && id->is_string()) rid = id->get<std::string>();
      if (const json* id = find_path(j, {"id"}); rid.empty() && id && id->is_string()) rid = id->get<std::string>();

      std::vector<std::pair<LineRouting, std::optional<int64_t>>> seqs;  // routing, prompt tokens
      const json* sg = find_path(j, {"meta_info", "routed_experts"});
      if (sg == nullptr) sg = find_path(j, {"sglext", "routed_experts"});
      if (sg != nullptr) {
        sglang_ = true;
        std::optional<int64_t> prompt_tokens = int_at(j, {"meta_info", "prompt_tokens"});
        std::optional<int64_t> completion = int_at(j, {"meta_info", "completion_tokens"});
        seqs.emplace_back(sglang_routing(*sg, prompt_tokens, completion, n), prompt_tokens);
      } else if (const json* choices = find_path(j, {"choices"}); choices && choices->is_array()) {
        for (size_t c = 0; c < choices->size(); ++c) {
          const json* re = find_path((*choices)[c], {"routed_experts"});
          if (re == nullptr) re = find_path((*choices)[c], {"sglext", "routed_experts"});
          if (re == nullptr) continue;
          vllm_ = true;
          std::optional<int64_t> prompt_tokens = int_at(j, {"usage", "prompt_tokens"});
          seqs.emplace_back(vllm_routing(*re, n, c), prompt_tokens);
        }
      }
      if (seqs.empty()) {
        fail("{}: line {} has no routed experts (meta_info.routed_experts or "
             "choices[].routed_experts; was the server started with "
             "--enable-return-routed-experts?)",
             path_.string(), n);
      }
      for (size_t c = 0; c < seqs.size(); ++c) {
        const auto& [r, prompt_tokens] = seqs[c];
        ImportedRequest q;
        q.id = request;
        q.has_prompt = prompt.has_value();
        q.prompt = prompt.value_or("");
        json src = {{"line", n}};
        if (!rid.empty()) src["id"] = rid;
        if (seqs.size() > 1 || vllm_) src["choice"] = c;
        q.source_json = src.dump();
        v.request(q);
        // Prompt tokens ran as one prefill step, then one decode step per generated token. Without
        // a prompt length every token counts as prefill.
        const int64_t n_prompt = std::clamp<int64_t>(prompt_tokens.value_or(r.tokens), 0, r.tokens);
        const size_t cell = size_t(r.layers) * size_t(r.k);
        std::string where;
        const int32_t prefill_step = n_prompt > 0 ? step++ : -1;
        for (int64_t t = 0; t < r.tokens; ++t) {
          ImportedToken tok;
          tok.request = request;
          tok.phase = t < n_prompt ? policy::Phase::kPrefill : policy::Phase::kDecode;
          tok.step = t < n_prompt ? prefill_step : step++;
          tok.n_layers = r.layers;
          tok.k = r.k;
          tok.experts = std::span<const int32_t>(r.ids).subspan(size_t(t) * cell, cell);
          where = fmt::format("line {}, token {}", n, t);
          tok.where = where;
          v.token(tok);
        }
        ++request;
      }
    }
    if (responses == 0) fail("{} holds no responses (an empty file?)", path_.string());
  }

 private:
  LineRouting sglang_routing(const json& field, std::optional<int64_t> prompt_tokens,
                             std::optional<int64_t> completion, int64_t line) {
    const std::string what = fmt::format("{}: line {}: routed_experts", path_.string(), line);
    if (!field.is_string()) fail("{} is not a base64 string", what);
    LineRouting r;
    r.ids = int32_values(base64_decode(field.get_ref<const std::string&>(), what), what);
    const int64_t n = int64_t(r.ids.size());
    int64_t layers = layers_, k = topk_;
    // SGLang captures every token that ran through the model: prompt + completion - 1.
    const int64_t tokens = prompt_tokens && completion ? *prompt_tokens + *completion - 1 : 0;
    if ((layers == 0 || k == 0) && tokens > 0 && n % tokens == 0) {
      if (layers == 0 && k > 0 && (n / tokens) % k == 0) layers = n / tokens / k;
      if (k == 0 && layers > 0 && (n / tokens) % layers == 0) k = n / tokens / layers;
    }
    if (layers == 0 || k == 0) {
      fail("{} holds {} ids but no shape: give --layers and --topk (SGLang's raw int32 routing "
           "does not say them)",
           what, n);
    }
    if (n % (layers * k) != 0)
      fail("{} holds {} ids, not a whole number of tokens x {} layers x top-{}", what, n, layers, k);
    r.layers = int32_t(layers);
    r.k = int32_t(k);
    r.tokens = n / (layers * k);
    return r;
  }

  LineRouting vllm_routing(const json& field, int64_t line, size_t choice) {
    const std::string what =
        fmt::format("{}: line {}: choices[{}].routed_experts", path_.string(), line, choice);
    NpyArray a;
    if (field.is_string()) {
      a = parse_npy(base64_decode(field.get_ref<const std::string&>(), what), what);
    } else if (field.is_object() && field.contains("data") && field["data"].is_string() &&
               field.contains("shape") && field["shape"].is_array()) {
      const std::string dtype = field.value("dtype", std::string("int32"));
      const std::vector<uint8_t> raw = base64_decode(field["data"].get<std::string>(), what);
      std::string descr = dtype == "int16" ? "<i2" : dtype == "int32" ? "<i4" : dtype == "uint8" ? "|u1" : "";
      if (descr.empty()) fail("{} has dtype '{}' (expected int16 or int32)", what, dtype);
      // The same decoding as a .npy body: build its header.
      std::string shape = "(";
      for (const json& d : field["shape"]) {
        if (!d.is_number_integer()) fail("{} has a bad shape", what);
        shape.append(std::to_string(d.get<int64_t>())).push_back(',');
      }
      shape += ")";
      std::string header = "{'descr': '";
      header.append(descr).append("', 'fortran_order': False, 'shape': ").append(shape).append(", }");
      std::vector<uint8_t> npy = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                  uint8_t(header.size() & 0xff), uint8_t(header.size() >> 8)};
      npy.insert(npy.end(), header.begin(), header.end());
      npy.insert(npy.end(), raw.begin(), raw.end());
      a = parse_npy(npy, what);
    } else {
      fail("{} is neither a base64 .npy buffer nor {{data, shape, dtype}}", what);
    }
    if (a.shape.size() != 3)
      fail("{} has {} dimensions, expected [tokens, layers, top_k]", what, a.shape.size());
    LineRouting r;
    r.tokens = a.shape[0];
    r.layers = int32_t(a.shape[1]);
    r.k = int32_t(a.shape[2]);
    if (r.layers < 1 || r.k < 1 || a.shape[1] > 4096 || a.shape[2] > 255)
      fail("{} has shape [{}, {}, {}]", what, a.shape[0], a.shape[1], a.shape[2]);
    r.ids = std::move(a.values);
    return r;
  }

  std::filesystem::path path_;
  int32_t layers_, topk_;
  bool sglang_ = false, vllm_ = false;
};

}  // namespace

std::unique_ptr<RoutingFile> open_routed_experts(const std::filesystem::path& path, int32_t layers,
                                                 int32_t topk) {
  return std::make_unique<RoutedExpertsFile>(path, layers, topk);
}

}  // namespace moescope::storage::import
