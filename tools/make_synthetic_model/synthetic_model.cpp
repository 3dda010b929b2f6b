#include "tools/make_synthetic_model/synthetic_model.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/tensor/quantize.h"
#include "tools/make_synthetic_model/synthetic_vocab.h"

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

// Uniform[-a, a] has std a / sqrt(3); keep activations of order one through the layers.
float fan_in(int64_t n) {
  return float(std::sqrt(3.0 / double(n)));
}

void add_norm(std::vector<TensorPlan>& p, std::string name, int64_t n) {
  p.push_back({std::move(name), {n}, GgmlType::F32, 1.0f, true});
}
void add_matrix(std::vector<TensorPlan>& p, std::string name, int64_t in, int64_t out,
                GgmlType type) {
  p.push_back({std::move(name), {in, out}, type, fan_in(in)});
}

// Router and routed experts (gate, up: E -> F; down: F -> E), as both layouts store them.
void add_moe(std::vector<TensorPlan>& p, const std::string& b, const SyntheticMoeSpec& s) {
  const int64_t E = s.n_embd, F = s.n_ff, X = s.n_expert;
  p.push_back({b + "ffn_gate_inp.weight", {E, X}, GgmlType::F32, fan_in(E) * 4});
  p.push_back({b + "ffn_gate_exps.weight", {E, F, X}, s.weight_type, fan_in(E), false, true});
  p.push_back({b + "ffn_up_exps.weight", {E, F, X}, s.weight_type, fan_in(E), false, true});
  p.push_back({b + "ffn_down_exps.weight", {F, E, X}, s.weight_type, fan_in(F), false, true});
}

void add_mixtral_layer(std::vector<TensorPlan>& p, const std::string& b,
                       const SyntheticMoeSpec& s) {
  const int64_t E = s.n_embd;
  const int64_t kv = E / s.n_head * s.n_head_kv;
  add_norm(p, b + "attn_norm.weight", E);
  add_matrix(p, b + "attn_q.weight", E, E, s.weight_type);
  add_matrix(p, b + "attn_k.weight", E, kv, s.weight_type);
  add_matrix(p, b + "attn_v.weight", E, kv, s.weight_type);
  add_matrix(p, b + "attn_output.weight", E, E, s.weight_type);
  add_norm(p, b + "ffn_norm.weight", E);
  add_moe(p, b, s);
}

// DeepSeek-V3 block: MLA (compressed query and key/value, decompressed attn_kv_b as llama.cpp's
// converter writes it), then a dense FFN (leading blocks) or routed + shared experts.
void add_deepseek_layer(std::vector<TensorPlan>& p, const std::string& b, int64_t il,
                        const SyntheticMoeSpec& s) {
  const int64_t E = s.n_embd, H = s.n_head;
  const GgmlType t = s.weight_type;
  const int64_t qk = s.head_dim_nope + s.head_dim_rope;
  add_norm(p, b + "attn_norm.weight", E);
  add_norm(p, b + "attn_q_a_norm.weight", s.q_lora_rank);
  add_matrix(p, b + "attn_q_a.weight", E, s.q_lora_rank, t);
  add_matrix(p, b + "attn_q_b.weight", s.q_lora_rank, H * qk, t);
  add_matrix(p, b + "attn_kv_a_mqa.weight", E, s.kv_lora_rank + s.head_dim_rope, t);
  add_norm(p, b + "attn_kv_a_norm.weight", s.kv_lora_rank);
  add_matrix(p, b + "attn_kv_b.weight", s.kv_lora_rank, H * (s.head_dim_nope + s.head_dim_v), t);
  add_matrix(p, b + "attn_output.weight", H * s.head_dim_v, E, t);
  add_norm(p, b + "ffn_norm.weight", E);
  if (il < s.n_layer_dense_lead) {
    add_matrix(p, b + "ffn_gate.weight", E, s.n_ff_dense, t);
    add_matrix(p, b + "ffn_up.weight", E, s.n_ff_dense, t);
    add_matrix(p, b + "ffn_down.weight", s.n_ff_dense, E, t);
    return;
  }
  add_moe(p, b, s);
  const int64_t Fs = s.n_ff * s.n_expert_shared;
  add_matrix(p, b + "ffn_gate_shexp.weight", E, Fs, t);
  add_matrix(p, b + "ffn_up_shexp.weight", E, Fs, t);
  add_matrix(p, b + "ffn_down_shexp.weight", Fs, E, t);
}

std::vector<TensorPlan> plan(const SyntheticMoeSpec& s) {
  const int64_t E = s.n_embd, V = s.n_vocab;
  std::vector<TensorPlan> p;
  p.push_back({"token_embd.weight", {E, V}, s.weight_type, 1.0f});
  add_norm(p, "output_norm.weight", E);
  add_matrix(p, "output.weight", E, V, s.weight_type);
  for (int64_t il = 0; il < s.n_layer; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    if (s.deepseek()) {
      add_deepseek_layer(p, b, il, s);
    } else {
      add_mixtral_layer(p, b, s);
    }
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

// Random rows, uniform in [-scale, scale], quantized to the tensor's type. With a pool, only the
// first `pool` rows are quantized and every further row is a copy of a random one of them.
void fill_tensor(const TensorPlan& t, uint64_t seed, int64_t pool, std::span<std::byte> bytes) {
  const int64_t cols = t.ne[0];
  const uint64_t row_bytes = ggml_row_bytes(ggml_type_traits(t.type), uint64_t(cols));
  const uint64_t pooled = pool > 0 ? uint64_t(pool) * row_bytes : bytes.size();
  std::vector<float> row(static_cast<size_t>(cols));
  uint64_t state = seed;
  for (uint64_t at = 0; at < bytes.size(); at += row_bytes) {
    if (at >= pooled) {
      const uint64_t from = next(state) % uint64_t(pool) * row_bytes;
      std::copy_n(bytes.data() + from, row_bytes, bytes.data() + at);
      continue;
    }
    for (float& v : row) {
      const double u = double(next(state) >> 11) * 0x1p-53;  // [0, 1)
      v = t.constant ? t.scale : float((2.0 * u - 1.0) * t.scale);
    }
    quantize_row(t.type, row.data(), bytes.data() + at, cols);
  }
}

// llama.cpp's and MoEScope's keys for the layout's architecture.
void write_hparams(gguf::GgufWriter& w, const SyntheticMoeSpec& s) {
  const std::string a = s.deepseek() ? "deepseek2" : "llama";
  w.set_string("general.architecture", a);
  w.set_string("general.name", "moescope-synthetic-moe");
  w.set_u32(a + ".context_length", uint32_t(s.n_ctx));
  w.set_u32(a + ".embedding_length", uint32_t(s.n_embd));
  w.set_u32(a + ".block_count", uint32_t(s.n_layer));
  w.set_u32(a + ".feed_forward_length", uint32_t(s.deepseek() ? s.n_ff_dense : s.n_ff));
  w.set_u32(a + ".attention.head_count", uint32_t(s.n_head));
  w.set_u32(a + ".attention.head_count_kv", uint32_t(s.deepseek() ? s.n_head : s.n_head_kv));
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_f32(a + ".rope.freq_base", 10000.0f);
  w.set_u32(a + ".expert_count", uint32_t(s.n_expert));
  w.set_u32(a + ".expert_used_count", uint32_t(s.n_expert_used));
  w.set_u32(a + ".vocab_size", uint32_t(s.n_vocab));
  if (!s.deepseek()) return;
  w.set_u32(a + ".leading_dense_block_count", uint32_t(s.n_layer_dense_lead));
  w.set_u32(a + ".attention.q_lora_rank", uint32_t(s.q_lora_rank));
  w.set_u32(a + ".attention.kv_lora_rank", uint32_t(s.kv_lora_rank));
  w.set_u32(a + ".attention.key_length", uint32_t(s.head_dim_nope + s.head_dim_rope));
  w.set_u32(a + ".attention.value_length", uint32_t(s.head_dim_v));
  w.set_u32(a + ".rope.dimension_count", uint32_t(s.head_dim_rope));
  w.set_u32(a + ".expert_feed_forward_length", uint32_t(s.n_ff));
  w.set_u32(a + ".expert_shared_count", uint32_t(s.n_expert_shared));
  w.set_f32(a + ".expert_weights_scale", 1.0f);
  w.set_bool(a + ".expert_weights_norm", false);
  w.set_u32(a + ".expert_gating_func", 1);                   // softmax, as DeepSeek-V2
  w.set_f32(a + ".rope.scaling.yarn_log_multiplier", 0.0f);  // llama.cpp requires the key
}

void check_spec(const SyntheticMoeSpec& s) {
  if (s.n_layer < 1 || s.n_embd < 32 || s.n_ff < 32 || s.n_expert < 1 || s.n_expert_used < 1 ||
      s.n_expert_used > s.n_expert || s.n_vocab < 3 || s.n_head < 1 || s.n_head_kv < 1 ||
      s.n_embd % s.n_head != 0 || s.n_head % s.n_head_kv != 0 || (s.n_embd / s.n_head) % 2 != 0) {
    fail(
        "bad synthetic model shape (n_embd must split into an even head size; ff >= 32; "
        "1 <= used <= experts; vocab >= 3)");
  }
  if (s.deepseek() && (s.n_layer_dense_lead < 0 || s.n_layer_dense_lead >= s.n_layer ||
                       s.q_lora_rank < 1 || s.kv_lora_rank < 1 || s.head_dim_nope < 1 ||
                       s.head_dim_rope < 2 || s.head_dim_rope % 2 != 0 || s.head_dim_v < 1)) {
    fail("bad DeepSeek shape (dense blocks < layers, positive ranks and head sizes, even rope)");
  }
  if (!can_quantize(s.weight_type))
    fail("cannot write tensor type {}", ggml_type_name(s.weight_type));
  // Every matrix's input width must be a whole number of the type's blocks.
  const int64_t block = ggml_type_traits(s.weight_type).block_size;
  for (const TensorPlan& t : plan(s)) {
    if (t.type == s.weight_type && t.ne[0] % block != 0) {
      fail("{} has {} columns, not a multiple of the weight type's block size {}", t.name, t.ne[0],
           block);
    }
  }
}

}  // namespace

SyntheticMoeSizes synthetic_moe_sizes(const SyntheticMoeSpec& spec) {
  SyntheticMoeSizes sizes;
  uint64_t embd_bytes = 0;
  for (const TensorPlan& t : plan(spec)) {
    (t.expert ? sizes.expert_bytes : sizes.non_expert_bytes) += tensor_bytes(t);
    if (t.name == "token_embd.weight") embd_bytes = tensor_bytes(t);
  }
  const uint64_t embd_row = embd_bytes / uint64_t(spec.n_vocab);
  sizes.decode_bytes = sizes.non_expert_bytes - embd_bytes + embd_row +
                       sizes.expert_bytes / uint64_t(spec.n_expert) * uint64_t(spec.n_expert_used);
  return sizes;
}

SyntheticMoeSizes write_synthetic_moe(const SyntheticMoeSpec& s, const std::filesystem::path& out) {
  check_spec(s);
  gguf::GgufWriter w;
  write_hparams(w, s);
  write_synthetic_vocab(w, s.n_vocab);

  uint64_t tensor_index = 0;
  for (const TensorPlan& t : plan(s)) {
    const uint64_t seed = s.seed * 0x100000001B3ull + ++tensor_index;
    w.add_tensor(t.name, t.type, t.ne, [t, seed, pool = s.row_pool](std::span<std::byte> bytes) {
      fill_tensor(t, seed, pool, bytes);
    });
  }
  w.write(out);
  return synthetic_moe_sizes(s);
}

}  // namespace moescope::tools
