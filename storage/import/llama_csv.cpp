#include "storage/import/llama_csv.h"

#include <algorithm>
#include <charconv>
#include <map>

#include <fmt/format.h>

#include "engine/common/error.h"
#include "storage/import/line_reader.h"

namespace moescope::storage::import {
namespace {

enum Column { kPhase, kToken, kLayer, kRank, kExpert, kColumns };

struct Row {
  policy::Phase phase = policy::Phase::kPrefill;
  bool has_phase = false;
  int64_t token = -1;
  int32_t layer = 0;
  int32_t rank = -1;
  int32_t expert = 0;
};

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (true) {
    const size_t comma = line.find(',', at);
    std::string_view f = line.substr(at, comma == std::string_view::npos ? std::string_view::npos
                                                                          : comma - at);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
    out.push_back(f);
    if (comma == std::string_view::npos) break;
    at = comma + 1;
  }
  return out;
}

bool is_number(std::string_view f) {
  int64_t v = 0;
  const auto r = std::from_chars(f.data(), f.data() + f.size(), v);
  return r.ec == std::errc() && r.ptr == f.data() + f.size();
}

class LlamaCsvFile : public RoutingFile {
 public:
  LlamaCsvFile(std::filesystem::path path, int32_t topk) : path_(std::move(path)), topk_(topk) {}
  std::string format() const override { return "llama-csv"; }

  void read(RoutingVisitor& v) override {
    LineReader lines(path_, size_t(1) << 20);
    std::string line;
    int col[kColumns];
    bool have_layout = false;
    v.request({0, false, "", "{}"});
    int32_t step = 0;
    std::vector<Row> call;  // one forward call's rows
    int32_t last_layer = -1;
    while (lines.next(line)) {
      const int64_t n = lines.line_number();
      if (line.empty() || line[0] == '#') continue;
      const std::vector<std::string_view> f = split(line);
      if (!have_layout) {
        have_layout = true;
        std::fill(col, col + kColumns, -1);
        if (!is_number(f[0]) && !(f.size() == 5 && is_phase(f[0]))) {  // a header row
          for (size_t i = 0; i < f.size(); ++i) {
            const std::string_view h = f[i];
            if (h == "phase") col[kPhase] = int(i);
            else if (h == "token" || h == "pos" || h == "token_idx") col[kToken] = int(i);
            else if (h == "layer" || h == "layer_id") col[kLayer] = int(i);
            else if (h == "rank" || h == "slot") col[kRank] = int(i);
            else if (h == "expert" || h == "expert_id") col[kExpert] = int(i);
          }
          if (col[kLayer] < 0 || col[kExpert] < 0)
            fail("{}: the header (line {}) names no layer and expert columns", path_.string(), n);
          columns_ = f.size();
          continue;
        }
        columns_ = f.size();
        if (f.size() == 2 || f.size() == 3) {
          col[kLayer] = 0;
          col[kExpert] = 1;
          if (f.size() == 3) col[kToken] = 2;
        } else if (f.size() == 5) {
          col[kPhase] = 0;
          col[kToken] = 1;
          col[kLayer] = 2;
          col[kRank] = 3;
          col[kExpert] = 4;
        } else {
          fail("{}: line {} has {} columns (expected layer,expert[,token] or "
               "phase,token,layer,rank,expert)",
               path_.string(), n, f.size());
        }
        if (col[kToken] < 0 && topk_ <= 0)
          fail("{} has no token column: give --topk to split each layer's rows into tokens",
               path_.string());
      }
      if (f.size() != columns_)
        fail("{}: line {} has {} columns, not {} (truncated?)", path_.string(), n, f.size(),
             columns_);
      Row r = parse_row(f, col, n);
      if (r.layer < last_layer && !call.empty()) {
        emit(call, step++, v, col[kToken] >= 0);
        call.clear();
      }
      last_layer = r.layer;
      call.push_back(r);
      if (call.size() > (size_t(1) << 26))
        fail("{}: a forward call of more than {} rows", path_.string(), size_t(1) << 26);
    }
    if (!call.empty()) emit(call, step++, v, col[kToken] >= 0);
    if (step == 0) fail("{} holds no routing rows", path_.string());
  }

 private:
  static bool is_phase(std::string_view f) {
    return f == "prefill" || f == "decode" || f == "prompt" || f == "generate" || f == "pp" ||
           f == "tg" || f == "0" || f == "1";
  }

  Row parse_row(const std::vector<std::string_view>& f, const int* col, int64_t n) const {
    Row r;
    auto num = [&](int c, const char* name) -> int64_t {
      int64_t v = 0;
      const std::string_view s = f[size_t(col[c])];
      const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
      if (res.ec != std::errc() || res.ptr != s.data() + s.size() || v < 0 || v > INT32_MAX)
        fail("{}: line {}: {} '{}' is not a non-negative integer", path_.string(), n, name, s);
      return v;
    };
    r.layer = int32_t(num(kLayer, "layer"));
    r.expert = int32_t(num(kExpert, "expert"));
    if (r.layer > 4095) fail("{}: line {}: layer {} is out of range", path_.string(), n, r.layer);
    if (col[kToken] >= 0) r.token = num(kToken, "token");
    if (col[kRank] >= 0) r.rank = int32_t(num(kRank, "rank"));
    if (col[kPhase] >= 0) {
      const std::string_view p = f[size_t(col[kPhase])];
      if (p == "prefill" || p == "prompt" || p == "pp" || p == "0") {
        r.phase = policy::Phase::kPrefill;
      } else if (p == "decode" || p == "generate" || p == "tg" || p == "1") {
        r.phase = policy::Phase::kDecode;
      } else {
        fail("{}: line {}: phase '{}' is neither prefill nor decode", path_.string(), n, p);
      }
      r.has_phase = true;
    }
    return r;
  }

  // One forward call: its tokens in order, each with [layers][k] experts.
  void emit(std::vector<Row>& call, int32_t step, RoutingVisitor& v, bool by_token) {
    int32_t layers = 0;
    for (const Row& r : call) layers = std::max(layers, r.layer + 1);
    std::map<int64_t, std::vector<std::vector<Row>>> tokens;  // token -> [layer] rows
    if (by_token) {
      for (const Row& r : call) {
        auto& t = tokens[r.token];
        if (t.empty()) t.resize(size_t(layers));
        t[size_t(r.layer)].push_back(r);
      }
    } else {
      // Each layer's rows are its tokens' top-k, token after token.
      std::map<int32_t, std::vector<Row>> by_layer;
      for (const Row& r : call) by_layer[r.layer].push_back(r);
      for (auto& [l, rows] : by_layer) {
        if (rows.size() % size_t(topk_) != 0)
          fail("{}: step {} has {} rows at layer {}, not a multiple of top-k {}", path_.string(),
               step, rows.size(), l, topk_);
        for (size_t i = 0; i < rows.size(); ++i) {
          auto& t = tokens[int64_t(i) / topk_];
          if (t.empty()) t.resize(size_t(layers));
          t[size_t(l)].push_back(rows[i]);
        }
      }
    }
    int32_t k = topk_;
    for (auto& [tok, per_layer] : tokens)
      for (auto& rows : per_layer) k = std::max(k, int32_t(rows.size()));
    if (k < 1 || k > 255) fail("{}: step {} selects {} experts per layer", path_.string(), step, k);
    const bool decode_call = tokens.size() == 1;
    std::vector<int32_t> ids;
    std::string where;
    for (auto& [tok, per_layer] : tokens) {
      ids.assign(size_t(layers) * size_t(k), -1);
      policy::Phase phase = decode_call ? policy::Phase::kDecode : policy::Phase::kPrefill;
      for (int32_t l = 0; l < layers; ++l) {
        auto& rows = per_layer[size_t(l)];
        std::stable_sort(rows.begin(), rows.end(),
                         [](const Row& a, const Row& b) { return a.rank < b.rank; });
        for (size_t i = 0; i < rows.size(); ++i) {
          ids[size_t(l) * size_t(k) + i] = rows[i].expert;
          if (rows[i].has_phase) phase = rows[i].phase;
        }
      }
      ImportedToken t;
      t.request = 0;
      t.step = step;
      t.phase = phase;
      t.n_layers = layers;
      t.k = k;
      t.experts = ids;
      where = fmt::format("step {}, token {}", step, tok);
      t.where = where;
      v.token(t);
    }
  }

  std::filesystem::path path_;
  int32_t topk_;
  size_t columns_ = 0;
};

}  // namespace

std::unique_ptr<RoutingFile> open_llama_csv(const std::filesystem::path& path, int32_t topk) {
  return std::make_unique<LlamaCsvFile>(path, topk);
}

}  // namespace moescope::storage::import
