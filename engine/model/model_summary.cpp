#include "engine/model/model_summary.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <string_view>

#include "engine/model/model_check.h"

namespace moescope {
namespace {

// Keys such as head_count may be a scalar or a per-layer array; the summary shows the largest.
int64_t int_or_array_max(const gguf::GgufFile& file, const std::string& key) {
  const gguf::Value* value = file.find(key);
  if (!value) return 0;
  if (value->type() != gguf::ValueType::Array) return value->is_integer() ? value->as_int() : 0;
  int64_t best = 0;
  std::visit(
      [&best](const auto& items) {
        for (const auto& item : items) {
          if constexpr (std::is_integral_v<std::decay_t<decltype(item)>>) {
            best = std::max<int64_t>(best, static_cast<int64_t>(item));
          }
        }
      },
      value->as_array().items);
  return best;
}

// "blk.12.ffn_up_exps.weight" -> 12; -1 for tensors outside the repeated blocks.
int block_index(std::string_view name) {
  constexpr std::string_view prefix = "blk.";
  if (!name.starts_with(prefix)) return -1;
  name.remove_prefix(prefix.size());
  int index = -1;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), index);
  if (ec != std::errc() || end == name.data() + name.size() || *end != '.') return -1;
  return index;
}

bool is_routed_expert_tensor(std::string_view name) {
  return name.find("_exps.") != std::string_view::npos;
}

}  // namespace

ModelSummary summarize_model(const gguf::GgufFile& file) {
  ModelSummary s;
  s.architecture = file.get_string("general.architecture").value_or("");
  s.name = file.get_string("general.name").value_or("");
  s.problem = check_runnable(file);
  s.supported = s.problem.empty();
  const std::string arch = s.architecture + ".";
  s.n_layer = file.get_int(arch + "block_count").value_or(0);
  s.n_embd = file.get_int(arch + "embedding_length").value_or(0);
  s.n_ctx_train = file.get_int(arch + "context_length").value_or(0);
  s.n_head = int_or_array_max(file, arch + "attention.head_count");
  s.n_head_kv = int_or_array_max(file, arch + "attention.head_count_kv");
  if (s.n_head_kv == 0) s.n_head_kv = s.n_head;
  s.n_expert = file.get_int(arch + "expert_count").value_or(0);
  s.n_expert_used = file.get_int(arch + "expert_used_count").value_or(0);
  s.n_expert_shared = file.get_int(arch + "expert_shared_count").value_or(0);
  s.tokenizer_model = file.get_string("tokenizer.ggml.model").value_or("");
  s.n_vocab = file.get_int(arch + "vocab_size").value_or(0);
  if (s.n_vocab == 0) {
    if (const auto* tokens = file.get_array("tokenizer.ggml.tokens")) {
      s.n_vocab = static_cast<int64_t>(tokens->size());
    }
  }
  s.file_bytes = file.file_size();

  std::map<int, uint64_t> expert_bytes_by_layer;
  std::map<int, uint64_t> expert_params_by_layer;
  std::map<int, int64_t> experts_in_layer;
  bool has_shared_expert_tensors = false;
  for (const auto& t : file.tensors()) {
    s.n_params += t.n_elements;
    auto& use = s.type_histogram[std::string(ggml_type_name(t.type))];
    use.tensors += 1;
    use.bytes += t.n_bytes;
    if (t.name.find("_shexp.") != std::string::npos) has_shared_expert_tensors = true;
    const int layer = block_index(t.name);
    if (layer < 0 || !is_routed_expert_tensor(t.name)) continue;
    s.n_params_expert += t.n_elements;
    s.expert_bytes += t.n_bytes;
    expert_bytes_by_layer[layer] += t.n_bytes;
    expert_params_by_layer[layer] += t.n_elements;
    // Expert index is the slowest dimension: ne[2] of weights, ne[1] of 2-D expert biases.
    experts_in_layer[layer] = std::max(experts_in_layer[layer], t.ne.back());
  }
  if (s.n_expert_shared == 0 && has_shared_expert_tensors) s.n_expert_shared = 1;

  s.n_params_active = s.n_params - s.n_params_expert;
  for (const auto& [layer, bytes] : expert_bytes_by_layer) {
    const int64_t n = experts_in_layer[layer];
    s.expert_bytes_per_layer.push_back({layer, n, n > 0 ? bytes / static_cast<uint64_t>(n) : 0});
    if (n > 0) {
      const int64_t used = s.n_expert_used > 0 ? std::min(s.n_expert_used, n) : n;
      s.n_params_active += expert_params_by_layer[layer] / static_cast<uint64_t>(n) *
                           static_cast<uint64_t>(used);
    }
  }
  // block_count is untrusted: list only layers the tensor table can speak for.
  int64_t layers_seen = 0;
  for (const auto& t : file.tensors()) {
    layers_seen = std::max<int64_t>(layers_seen, int64_t{block_index(t.name)} + 1);
  }
  const int64_t listed = std::min(s.n_layer, layers_seen);
  for (int layer = 0; layer < listed; ++layer) {
    if (!expert_bytes_by_layer.contains(layer)) s.dense_layers.push_back(layer);
  }
  return s;
}

}  // namespace moescope
