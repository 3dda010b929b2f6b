#include "engine/placement/engine_exports.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "engine/common/error.h"

namespace moescope::placement {
namespace {

void check_blocks(const std::vector<int32_t>& model_layer, size_t layers, int32_t n_model_layers) {
  if (model_layer.size() != layers) fail("{} block indices for {} MoE layers", model_layer.size(), layers);
  for (int32_t b : model_layer)
    if (b < 0 || b >= n_model_layers)
      fail("MoE block index {} is outside the model's {} layers", b, n_model_layers);
}

template <typename T>
std::string join(const std::vector<T>& values, char separator) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += separator;
    out += std::to_string(values[i]);
  }
  return out;
}

std::string json_row(const std::vector<int64_t>& row) {
  std::string out(1, '[');
  out += join(row, ',');
  out += ']';
  return out;
}

std::string json_matrix(const char* key, const std::vector<std::vector<int64_t>>& rows) {
  std::string out = fmt::format("{{\"{}\": [", key);
  for (size_t r = 0; r < rows.size(); ++r) {
    out += r ? ",\n  " : "\n  ";
    out += json_row(rows[r]);
  }
  return out + "\n]}\n";
}

double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{:.6f}", v) : "null"; }

}  // namespace

std::string sglang_logical_count_json(const std::vector<std::vector<double>>& loads,
                                      const std::vector<int32_t>& model_layer,
                                      int32_t n_model_layers) {
  check_blocks(model_layer, loads.size(), n_model_layers);
  if (loads.empty()) fail("the trace has no MoE layer");
  const size_t experts = loads[0].size();
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(n_model_layers), std::vector<int64_t>(experts, 0));
  for (size_t l = 0; l < loads.size(); ++l) {
    if (loads[l].size() != experts) fail("SGLang needs the same expert count in every MoE layer");
    for (size_t e = 0; e < experts; ++e)
      rows[size_t(model_layer[l])][e] = static_cast<int64_t>(std::llround(loads[l][e]));
  }
  return json_matrix("logical_count", rows);
}

std::string physical_to_logical_json(const Placement& placement,
                                     const std::vector<int32_t>& n_experts,
                                     const std::vector<int32_t>& model_layer,
                                     int32_t n_model_layers) {
  validate(placement, n_experts);
  check_blocks(model_layer, placement.layers.size(), n_model_layers);
  const size_t slots = size_t(placement.layers[0].n_slots());
  for (size_t l = 0; l < placement.layers.size(); ++l)
    if (size_t(placement.layers[l].n_slots()) != slots || n_experts[l] != n_experts[0])
      fail("SGLang needs the same expert and slot counts in every MoE layer");
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(n_model_layers), std::vector<int64_t>(slots));
  for (auto& row : rows)
    for (size_t s = 0; s < slots; ++s) row[s] = int64_t(s % size_t(n_experts[0]));
  for (size_t l = 0; l < placement.layers.size(); ++l)
    for (size_t s = 0; s < slots; ++s)
      rows[size_t(model_layer[l])][s] = placement.layers[l].phy2log[s].value;
  return json_matrix("physical_to_logical_map", rows);
}

std::string llama_override_pattern(const std::vector<int32_t>& blocks) {
  if (blocks.empty()) return "";
  const std::string alt = join(blocks, '|');
  const std::string group = blocks.size() == 1 ? alt : "(" + alt + ")";
  return fmt::format("blk\\.{}\\.ffn_(up|down|gate|gate_up)_(ch|)exps=CPU", group);
}

LlamaPlan llama_offload_plan(const policy::MoeShape& shape,
                             const std::vector<std::vector<double>>& loads, uint64_t budget_bytes) {
  const size_t layers = size_t(shape.n_layers());
  if (loads.size() != layers) fail("loads for {} layers, shape has {}", loads.size(), layers);
  std::vector<uint64_t> bytes(layers);
  std::vector<double> used(layers);
  double total = 0;
  for (size_t l = 0; l < layers; ++l) {
    bytes[l] = shape.expert_bytes[l] * uint64_t(shape.n_experts[l]);
    used[l] = sum(loads[l]);
    total += used[l];
  }
  auto choice = [&](const std::vector<bool>& on_gpu) {
    LlamaOffloadChoice c;
    double hit = 0;
    for (size_t l = 0; l < layers; ++l) {
      if (on_gpu[l]) c.gpu_expert_bytes += bytes[l], hit += used[l];
      else c.cpu_blocks.push_back(shape.model_layer[l]);
    }
    c.hit_rate = total > 0 ? hit / total : std::nan("");
    return c;
  };
  LlamaPlan plan;
  plan.budget_bytes = budget_bytes;
  // --n-cpu-moe N: blocks below N keep their experts on the CPU; the smallest N that fits.
  const int32_t last_block = layers ? *std::max_element(shape.model_layer.begin(), shape.model_layer.end()) : -1;
  for (int32_t n = 0; n <= last_block + 1; ++n) {
    std::vector<bool> on_gpu(layers);
    uint64_t need = 0;
    for (size_t l = 0; l < layers; ++l)
      if ((on_gpu[l] = shape.model_layer[l] >= n)) need += bytes[l];
    if (need <= budget_bytes) {
      plan.n_cpu_moe_value = n;
      plan.n_cpu_moe = choice(on_gpu);
      plan.n_cpu_moe.args = fmt::format("--n-gpu-layers 999 --n-cpu-moe {}", n);
      break;
    }
  }
  // --override-tensor: layers by routed pairs per byte, most first, while they fit.
  std::vector<size_t> order(layers);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return used[a] * double(bytes[b]) > used[b] * double(bytes[a]);
  });
  std::vector<bool> on_gpu(layers, false);
  uint64_t room = budget_bytes;
  for (size_t l : order)
    if (bytes[l] <= room) on_gpu[l] = true, room -= bytes[l];
  plan.override_tensor = choice(on_gpu);
  const std::string pattern = llama_override_pattern(plan.override_tensor.cpu_blocks);
  plan.override_tensor.args =
      pattern.empty() ? "--n-gpu-layers 999" : fmt::format("--n-gpu-layers 999 --override-tensor \"{}\"", pattern);
  return plan;
}

std::string llama_plan_json(const LlamaPlan& plan) {
  auto choice = [](const LlamaOffloadChoice& c) {
    const std::string blocks = join(c.cpu_blocks, ',');
    std::string args;
    for (char ch : c.args) {
      if (ch == '"' || ch == '\\') args += '\\';
      args += ch;
    }
    return fmt::format(
        "{{\"cpu_blocks\": [{}], \"gpu_expert_bytes\": {}, \"predicted_hit_rate\": {}, "
        "\"args\": \"{}\"}}",
        blocks, c.gpu_expert_bytes, json_number(c.hit_rate), args);
  };
  return fmt::format(
      "{{\"format\": \"moescope-llama-offload-plan\", \"version\": 1,\n"
      " \"budget_bytes\": {},\n \"n_cpu_moe\": {},\n \"n_cpu_moe_plan\": {},\n"
      " \"override_tensor_plan\": {}}}\n",
      plan.budget_bytes, plan.n_cpu_moe_value, choice(plan.n_cpu_moe), choice(plan.override_tensor));
}

}  // namespace moescope::placement
