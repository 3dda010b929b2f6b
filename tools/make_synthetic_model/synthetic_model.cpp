#include "tools/make_synthetic_model/synthetic_model.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/tensor/quantize.h"

namespace moescope::tools {
namespace {

struct TensorPlan {
  std::string name;
  std::vector<int64_t> ne;
  GgmlType type;
  float scale;  // values are uniform in [-scale, scale], or exactly `scale` for norms
  bool constant = false;
  bool expert = false;
};

std::vector<TensorPlan> plan(const SyntheticMoeSpec& s) {
  const int64_t E = s.n_embd, F = s.n_ff, X = s.n_expert, V = s.n_vocab;
  const int64_t kv = E / s.n_head * s.n_head_kv;
  const GgmlType w = s.weight_type;
  // Uniform[-a, a] has std a / sqrt(3); keep activations of order one through the layers.
  const auto fan_in = [](int64_t n) { return float(std::sqrt(3.0 / double(n))); };
  std::vector<TensorPlan> p;
  p.push_back({"token_embd.weight", {E, V}, w, 1.0f});
  p.push_back({"output_norm.weight", {E}, GgmlType::F32, 1.0f, true});
  p.push_back({"output.weight", {E, V}, w, fan_in(E)});
  for (int64_t il = 0; il < s.n_layer; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    p.push_back({b + "attn_norm.weight", {E}, GgmlType::F32, 1.0f, true});
    p.push_back({b + "attn_q.weight", {E, E}, w, fan_in(E)});
    p.push_back({b + "attn_k.weight", {E, kv}, w, fan_in(E)});
    p.push_back({b + "attn_v.weight", {E, kv}, w, fan_in(E)});
    p.push_back({b + "attn_output.weight", {E, E}, w, fan_in(E)});
    p.push_back({b + "ffn_norm.weight", {E}, GgmlType::F32, 1.0f, true});
    p.push_back({b + "ffn_gate_inp.weight", {E, X}, GgmlType::F32, fan_in(E) * 4});
    p.push_back({b + "ffn_gate_exps.weight", {E, F, X}, w, fan_in(E), false, true});
    p.push_back({b + "ffn_up_exps.weight", {E, F, X}, w, fan_in(E), false, true});
    p.push_back({b + "ffn_down_exps.weight", {F, E, X}, w, fan_in(F), false, true});
  }
  return p;
}

uint64_t tensor_bytes(const TensorPlan& t) {
  uint64_t rows = 1;
  for (size_t i = 1; i < t.ne.size(); ++i) rows *= uint64_t(t.ne[i]);
  return ggml_row_bytes(ggml_type_traits(t.type), uint64_t(t.ne[0])) * rows;
}

// splitmix64: fast, seedable, good enough for random weights.
uint64_t next(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

SyntheticMoeSizes synthetic_moe_sizes(const SyntheticMoeSpec& spec) {
  SyntheticMoeSizes sizes;
  for (const TensorPlan& t : plan(spec)) {
    (t.expert ? sizes.expert_bytes : sizes.non_expert_bytes) += tensor_bytes(t);
  }
  return sizes;
}

SyntheticMoeSizes write_synthetic_moe(const SyntheticMoeSpec& s, const std::filesystem::path& out) {
  if (s.n_layer < 1 || s.n_embd < 32 || s.n_ff < 32 || s.n_expert < 1 || s.n_expert_used < 1 ||
      s.n_expert_used > s.n_expert || s.n_vocab < 2 || s.n_head < 1 || s.n_head_kv < 1 ||
      s.n_embd % s.n_head != 0 || s.n_head % s.n_head_kv != 0 || (s.n_embd / s.n_head) % 2 != 0) {
    fail(
        "bad synthetic model shape (n_embd must split into an even head size; ff >= 32; "
        "1 <= used <= experts)");
  }
  const int64_t block = ggml_type_traits(s.weight_type).block_size;
  if (s.n_embd % block != 0 || s.n_ff % block != 0 || !can_quantize(s.weight_type)) {
    fail("n_embd and n_ff must be multiples of the weight type's block size {}", block);
  }
  gguf::GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", "moescope-synthetic-moe");
  w.set_u32("llama.context_length", uint32_t(s.n_ctx));
  w.set_u32("llama.embedding_length", uint32_t(s.n_embd));
  w.set_u32("llama.block_count", uint32_t(s.n_layer));
  w.set_u32("llama.feed_forward_length", uint32_t(s.n_ff));
  w.set_u32("llama.attention.head_count", uint32_t(s.n_head));
  w.set_u32("llama.attention.head_count_kv", uint32_t(s.n_head_kv));
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_f32("llama.rope.freq_base", 10000.0f);
  w.set_u32("llama.expert_count", uint32_t(s.n_expert));
  w.set_u32("llama.expert_used_count", uint32_t(s.n_expert_used));
  w.set_u32("llama.vocab_size", uint32_t(s.n_vocab));

  uint64_t tensor_index = 0;
  for (const TensorPlan& t : plan(s)) {
    const uint64_t seed = s.seed * 0x100000001B3ull + ++tensor_index;
    w.add_tensor(t.name, t.type, t.ne, [t, seed](std::span<std::byte> bytes) {
      const int64_t cols = t.ne[0];
      const uint64_t row_bytes = ggml_row_bytes(ggml_type_traits(t.type), uint64_t(cols));
      std::vector<float> row(static_cast<size_t>(cols));
      uint64_t state = seed;
      for (uint64_t at = 0; at < bytes.size(); at += row_bytes) {
        for (float& v : row) {
          const double u = double(next(state) >> 11) * 0x1p-53;  // [0, 1)
          v = t.constant ? t.scale : float((2.0 * u - 1.0) * t.scale);
        }
        quantize_row(t.type, row.data(), bytes.data() + at, cols);
      }
    });
  }
  w.write(out);
  return synthetic_moe_sizes(s);
}

}  // namespace moescope::tools
