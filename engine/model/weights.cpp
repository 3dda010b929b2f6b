#include "engine/model/weights.h"

#include <charconv>
#include <string>
#include <unordered_set>

#include "engine/common/error.h"
#include "engine/tensor/dequantize.h"

namespace moescope {
namespace {

std::string shape_string(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

std::vector<int64_t> trimmed(std::vector<int64_t> ne) {
  while (ne.size() > 1 && ne.back() == 1) ne.pop_back();
  return ne;
}

enum class Need { Required, Optional };

// Finds tensors by name, checks shape and type, and remembers which ones were used.
class TensorLoader {
 public:
  explicit TensorLoader(const gguf::GgufFile& file) : file_(file) {}

  const gguf::TensorInfo* find(const std::string& name, std::vector<int64_t> ne, Need need) {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (t == nullptr) {
      if (need == Need::Required) fail("{}: missing tensor '{}'", path(), name);
      return nullptr;
    }
    if (trimmed(t->ne) != trimmed(ne)) {
      fail("{}: tensor '{}' has shape {}, expected {}", path(), name, shape_string(t->ne),
           shape_string(ne));
    }
    if (!can_dequantize(t->type) || !matmul_supports(t->type)) {
      fail("{}: tensor '{}' has type {}, which MoEScope cannot compute with", path(), name,
           ggml_type_name(t->type));
    }
    used_.insert(name);
    return t;
  }

  WeightView matrix(const std::string& name, int64_t cols, int64_t rows, Need need) {
    const gguf::TensorInfo* t = find(name, {cols, rows}, need);
    if (t == nullptr) return WeightView{};
    return view(*t, 0);
  }

  // A 2-D slice `index` of a 3-D tensor {cols, rows, n}.
  WeightView view(const gguf::TensorInfo& t, int64_t index) {
    const uint64_t row_bytes = ggml_row_bytes(ggml_type_traits(t.type), t.dim(0));
    const std::byte* base = file_.tensor_data(t).data();
    return WeightView{t.type, base + static_cast<uint64_t>(index) * row_bytes * t.dim(1), t.dim(1),
                      t.dim(0), row_bytes};
  }

  std::vector<float> vector(const std::string& name, int64_t n, Need need) {
    const gguf::TensorInfo* t = find(name, {n}, need);
    if (t == nullptr) return {};
    return dequantize_vector(view(*t, 0));
  }

  // `prefix.weight` [rows][cols] and an optional (or required) `prefix.bias` [rows].
  Linear linear(const std::string& prefix, int64_t cols, int64_t rows, Need need,
                Need bias_need = Need::Optional) {
    Linear l;
    l.w = matrix(prefix + ".weight", cols, rows, need);
    if (l.present()) l.bias = vector(prefix + ".bias", rows, bias_need);
    return l;
  }

  // Every tensor of the file must be used, except extra blocks past n_layer (NextN/MTP layers).
  void check_all_used(int64_t n_layer, const std::string& arch) const {
    for (const auto& t : file_.tensors()) {
      if (used_.count(t.name)) continue;
      int64_t block = -1;
      if (t.name.rfind("blk.", 0) == 0) {
        const char* begin = t.name.data() + 4;
        std::from_chars(begin, t.name.data() + t.name.size(), block);
      }
      if (block >= n_layer) continue;
      fail("{}: tensor '{}' is not used by MoEScope's {} graph (unsupported feature)", path(),
           t.name, arch);
    }
  }

  std::string path() const { return file_.path().string(); }

 private:
  const gguf::GgufFile& file_;
  std::unordered_set<std::string> used_;
};

std::string blk(int64_t il, const char* name) {
  return "blk." + std::to_string(il) + "." + name;
}

void load_attention(TensorLoader& tl, const ModelHParams& hp, int64_t il, LayerWeights& L) {
  const int64_t E = hp.n_embd;
  const int64_t dq = hp.n_head(il) * hp.head_dim_k;
  const int64_t dk = hp.n_head_kv(il) * hp.head_dim_k;
  const int64_t dv = hp.n_head_kv(il) * hp.head_dim_v;
  const bool fused_ok = hp.arch != Architecture::Olmoe;
  L.wqkv = fused_ok ? tl.linear(blk(il, "attn_qkv"), E, dq + dk + dv, Need::Optional) : Linear{};
  if (!L.wqkv.present()) {
    L.wq = tl.linear(blk(il, "attn_q"), E, dq, Need::Required);
    L.wk = tl.linear(blk(il, "attn_k"), E, dk, Need::Required);
    L.wv = tl.linear(blk(il, "attn_v"), E, dv, Need::Required);
  }
  const bool bo_required = hp.arch == Architecture::GptOss || hp.arch == Architecture::PhiMoe;
  L.wo = tl.linear(blk(il, "attn_output"), hp.n_head(il) * hp.head_dim_v, E, Need::Required,
                   bo_required ? Need::Required : Need::Optional);
  if (hp.arch == Architecture::Qwen3Moe) {
    L.q_norm = tl.vector(blk(il, "attn_q_norm.weight"), hp.head_dim_k, Need::Required);
    L.k_norm = tl.vector(blk(il, "attn_k_norm.weight"), hp.head_dim_k, Need::Required);
  } else if (hp.arch == Architecture::Olmoe) {
    L.q_norm = tl.vector(blk(il, "attn_q_norm.weight"), dq, Need::Required);
    L.k_norm = tl.vector(blk(il, "attn_k_norm.weight"), dk, Need::Required);
  } else if (hp.arch == Architecture::GptOss) {
    L.attn_sinks = tl.vector(blk(il, "attn_sinks.weight"), hp.n_head(il), Need::Required);
  }
}

void load_mla(TensorLoader& tl, const ModelHParams& hp, int64_t il, LayerWeights& L) {
  const int64_t E = hp.n_embd;
  const int64_t H = hp.n_head(il);
  const int64_t rope = hp.n_rot;
  const int64_t kvlr = hp.kv_lora_rank;
  // Per-head query/key width (nope + rope) and value width.
  const int64_t qk = hp.is_mla() ? hp.head_dim_k_mla : hp.head_dim_k;
  const int64_t v = hp.is_mla() ? hp.head_dim_v_mla : hp.head_dim_v;
  const int64_t nope = qk - rope;
  if (nope <= 0) fail("{}: deepseek2 key length {} leaves no non-rotary part", tl.path(), qk);
  if (hp.q_lora_rank > 0) {
    L.q_a_norm = tl.vector(blk(il, "attn_q_a_norm.weight"), hp.q_lora_rank, Need::Required);
    L.wq_a = tl.linear(blk(il, "attn_q_a"), E, hp.q_lora_rank, Need::Required);
    L.wq_b = tl.linear(blk(il, "attn_q_b"), hp.q_lora_rank, H * qk, Need::Required);
  } else {
    L.wq = tl.linear(blk(il, "attn_q"), E, H * qk, Need::Required);
  }
  L.wkv_a_mqa = tl.linear(blk(il, "attn_kv_a_mqa"), E, kvlr + rope, Need::Required);
  L.kv_a_norm = tl.vector(blk(il, "attn_kv_a_norm.weight"), kvlr, Need::Required);
  if (hp.is_mla()) {
    const gguf::TensorInfo* k_b =
        tl.find(blk(il, "attn_k_b.weight"), {nope, kvlr, H}, Need::Required);
    const gguf::TensorInfo* v_b = tl.find(blk(il, "attn_v_b.weight"), {kvlr, v, H}, Need::Required);
    for (int64_t h = 0; h < H; ++h) {
      L.wk_b.push_back(tl.view(*k_b, h));
      L.wv_b.push_back(tl.view(*v_b, h));
    }
  } else {
    L.wkv_b = tl.linear(blk(il, "attn_kv_b"), kvlr, H * (nope + v), Need::Required);
  }
  L.wo = tl.linear(blk(il, "attn_output"), H * v, E, Need::Required);
}

void load_ffn(TensorLoader& tl, const ModelHParams& hp, int64_t il, LayerWeights& L,
              LayerExpertTensors& experts) {
  const int64_t E = hp.n_embd;
  const char* norm = hp.arch == Architecture::GptOss ? "post_attention_norm" : "ffn_norm";
  L.ffn_norm = tl.vector(blk(il, norm) + ".weight", E, Need::Required);
  if (hp.arch == Architecture::PhiMoe) {
    L.ffn_norm_b = tl.vector(blk(il, "ffn_norm.bias"), E, Need::Required);
  }
  if (!hp.is_moe_layer(il)) {
    const int64_t F = hp.n_ff(il);
    L.ffn_gate = tl.linear(blk(il, "ffn_gate"), E, F, Need::Required);
    L.ffn_up = tl.linear(blk(il, "ffn_up"), E, F, Need::Required);
    L.ffn_down = tl.linear(blk(il, "ffn_down"), F, E, Need::Required);
    return;
  }
  const int64_t X = hp.n_expert;
  const int64_t F = hp.expert_ff(il);
  const bool gpt_oss = hp.arch == Architecture::GptOss;
  const Need bias_need = gpt_oss ? Need::Required : Need::Optional;
  L.router = tl.linear(blk(il, "ffn_gate_inp"), E, X, Need::Required, bias_need);
  L.selection_bias = tl.vector(blk(il, "exp_probs_b.bias"), X, Need::Optional);

  auto part = [&](ExpertPart p, const char* name, std::vector<int64_t> ne, Need need) {
    experts.parts[static_cast<size_t>(p)] = tl.find(blk(il, name), std::move(ne), need);
  };
  part(ExpertPart::GateUp, "ffn_gate_up_exps.weight", {E, 2 * F, X}, Need::Optional);
  const bool fused = experts.has(ExpertPart::GateUp);
  if (!fused) {
    // llama accepts gate-less experts (silu(up)); every other arch needs the gate.
    const Need gate_need = hp.arch == Architecture::Llama ? Need::Optional : Need::Required;
    part(ExpertPart::Gate, "ffn_gate_exps.weight", {E, F, X}, gate_need);
    part(ExpertPart::Up, "ffn_up_exps.weight", {E, F, X}, Need::Required);
  }
  part(ExpertPart::Down, "ffn_down_exps.weight", {F, E, X}, Need::Required);
  part(ExpertPart::GateBias, "ffn_gate_exps.bias", {F, X}, fused ? Need::Optional : bias_need);
  part(ExpertPart::UpBias, "ffn_up_exps.bias", {F, X}, fused ? Need::Optional : bias_need);
  part(ExpertPart::DownBias, "ffn_down_exps.bias", {E, X}, bias_need);
  if (fused && (experts.has(ExpertPart::GateBias) || experts.has(ExpertPart::UpBias))) {
    fail("{}: layer {} has fused gate_up experts with separate gate/up biases", tl.path(), il);
  }

  if (hp.arch == Architecture::Qwen2Moe) {
    const int64_t Fs = hp.n_ff_shexp;
    L.shexp_gate_inp = tl.linear(blk(il, "ffn_gate_inp_shexp"), E, 1, Need::Required);
    L.shexp_gate = tl.linear(blk(il, "ffn_gate_shexp"), E, Fs, Need::Required);
    L.shexp_up = tl.linear(blk(il, "ffn_up_shexp"), E, Fs, Need::Required);
    L.shexp_down = tl.linear(blk(il, "ffn_down_shexp"), Fs, E, Need::Required);
  } else if (hp.n_ff_shexp > 0) {  // deepseek2, granitemoe-shared: ungated shared expert
    const int64_t Fs = hp.n_ff_shexp;
    L.shexp_gate = tl.linear(blk(il, "ffn_gate_shexp"), E, Fs, Need::Required);
    L.shexp_up = tl.linear(blk(il, "ffn_up_shexp"), E, Fs, Need::Required);
    L.shexp_down = tl.linear(blk(il, "ffn_down_shexp"), Fs, E, Need::Required);
  }
}

constexpr const char* kExpertPartTensor[kExpertPartCount] = {
    "ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight",
    "ffn_gate_up_exps.weight", "ffn_gate_exps.bias", "ffn_up_exps.bias", "ffn_down_exps.bias"};

// Optional tensors are optional per model, not per layer: a part that some MoE layers have and
// another lacks means a damaged file, which would otherwise run that layer without it.
void check_layers_alike(const std::string& path, const ModelHParams& hp, const ModelWeights& w) {
  auto check = [&](const char* name, auto&& present) {
    int64_t with = 0, first_without = -1, n_moe = 0;
    for (int64_t il = 0; il < hp.n_layer; ++il) {
      if (!hp.is_moe_layer(il)) continue;
      ++n_moe;
      if (present(il)) {
        ++with;
      } else if (first_without < 0) {
        first_without = il;
      }
    }
    if (with > 0 && with < n_moe) {
      fail("{}: missing tensor '{}' (the other MoE layers have it)", path,
           blk(first_without, name));
    }
  };
  for (size_t p = 0; p < kExpertPartCount; ++p) {
    check(kExpertPartTensor[p], [&](int64_t il) { return w.experts[il].parts[p] != nullptr; });
  }
  check("ffn_gate_inp.bias", [&](int64_t il) { return !w.layers[il].router.bias.empty(); });
  check("exp_probs_b.bias", [&](int64_t il) { return !w.layers[il].selection_bias.empty(); });
}

}  // namespace

ModelWeights load_weights(const gguf::GgufFile& file, const ModelHParams& hp) {
  TensorLoader tl(file);
  ModelWeights w;
  const int64_t E = hp.n_embd;
  const Architecture arch = hp.arch;

  w.tok_embd = tl.matrix("token_embd.weight", E, hp.n_vocab, Need::Required);
  w.output_norm = tl.vector("output_norm.weight", E, Need::Required);
  const bool phimoe = arch == Architecture::PhiMoe;
  if (phimoe) w.output_norm_b = tl.vector("output_norm.bias", E, Need::Required);
  const bool may_tie = arch == Architecture::Llama || arch == Architecture::GraniteMoe ||
                       arch == Architecture::Qwen3Moe || arch == Architecture::Deepseek2;
  w.output = tl.linear("output", E, hp.n_vocab, may_tie ? Need::Optional : Need::Required,
                       phimoe ? Need::Required : Need::Optional);
  if (!w.output.present()) w.output.w = w.tok_embd;  // tied embeddings

  if (hp.n_rot > 0) {
    w.rope_freqs = tl.vector("rope_freqs.weight", hp.n_rot / 2, Need::Optional);
    if (phimoe) {
      w.rope_long = tl.vector("rope_factors_long.weight", hp.n_rot / 2, Need::Optional);
      w.rope_short = tl.vector("rope_factors_short.weight", hp.n_rot / 2, Need::Optional);
    }
  }

  w.layers.resize(hp.n_layer);
  w.experts.resize(hp.n_layer);
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    LayerWeights& L = w.layers[il];
    L.attn_norm = tl.vector(blk(il, "attn_norm.weight"), E, Need::Required);
    if (phimoe) L.attn_norm_b = tl.vector(blk(il, "attn_norm.bias"), E, Need::Required);
    if (arch == Architecture::Deepseek2) {
      load_mla(tl, hp, il, L);
    } else {
      load_attention(tl, hp, il, L);
    }
    load_ffn(tl, hp, il, L, w.experts[il]);
  }
  tl.check_all_used(hp.n_layer, hp.architecture);
  check_layers_alike(tl.path(), hp, w);
  return w;
}

}  // namespace moescope
