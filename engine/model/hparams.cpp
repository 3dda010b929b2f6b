#include "engine/model/hparams.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

#include "engine/common/error.h"
#include "engine/model/architectures.h"

namespace moescope {
namespace {

// Sanity bounds: far above any real model, low enough that a hostile file cannot make later
// allocations explode before its tensors are checked.
constexpr int64_t kMaxEmbd = 1 << 17;
constexpr int64_t kMaxLayers = 1 << 12;
constexpr int64_t kMaxHeads = 1 << 12;
constexpr int64_t kMaxHeadDim = 1 << 12;
constexpr int64_t kMaxFf = 1 << 20;
constexpr int64_t kMaxExperts = 512;  // LLAMA_MAX_EXPERTS

// Looks up `{arch}.{suffix}` keys and reports problems naming the file and the key.
class Keys {
 public:
  Keys(const gguf::GgufFile& file, std::string arch) : file_(file), arch_(std::move(arch)) {}

  std::string key(std::string_view suffix) const { return arch_ + "." + std::string(suffix); }

  std::optional<int64_t> opt_int(std::string_view suffix) const {
    return file_.get_int(key(suffix));
  }
  int64_t req_int(std::string_view suffix) const {
    auto v = opt_int(suffix);
    if (!v) missing(suffix);
    return *v;
  }
  int64_t int_or(std::string_view suffix, int64_t fallback) const {
    return opt_int(suffix).value_or(fallback);
  }
  std::optional<float> opt_float(std::string_view suffix) const {
    auto v = file_.get_float(key(suffix));
    if (!v) return std::nullopt;
    return static_cast<float>(*v);
  }
  float req_float(std::string_view suffix) const {
    auto v = opt_float(suffix);
    if (!v) missing(suffix);
    return *v;
  }
  float float_or(std::string_view suffix, float fallback) const {
    return opt_float(suffix).value_or(fallback);
  }
  bool bool_or(std::string_view suffix, bool fallback) const {
    return file_.get_bool(key(suffix)).value_or(fallback);
  }

  // A scalar applying to every layer, or an array with one value per layer.
  std::optional<std::vector<int64_t>> per_layer(std::string_view suffix, int64_t n_layer) const {
    const std::string k = key(suffix);
    const gguf::Value* value = file_.find(k);
    if (value == nullptr) return std::nullopt;
    if (value->type() != gguf::ValueType::Array) {
      return std::vector<int64_t>(n_layer, value->as_int());
    }
    std::vector<int64_t> out = integers(value->as_array(), k);
    if (static_cast<int64_t>(out.size()) != n_layer) {
      fail("{}: key '{}' has {} values, expected one per layer ({})", path(), k, out.size(),
           n_layer);
    }
    return out;
  }

  [[noreturn]] void missing(std::string_view suffix) const {
    fail("{}: missing required key '{}'", path(), key(suffix));
  }
  std::string path() const { return file_.path().string(); }

 private:
  std::vector<int64_t> integers(const gguf::ArrayValue& array, const std::string& k) const {
    return std::visit(
        [&](const auto& items) -> std::vector<int64_t> {
          using T = typename std::decay_t<decltype(items)>::value_type;
          if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
            std::vector<int64_t> out;
            for (T item : items) {
              if constexpr (std::is_same_v<T, uint64_t>) {
                if (item > static_cast<uint64_t>(INT64_MAX)) {
                  fail("{}: key '{}' holds an out-of-range value", path(), k);
                }
              }
              out.push_back(static_cast<int64_t>(item));
            }
            return out;
          } else {
            fail("{}: key '{}' must be an integer or an array of integers", path(), k);
          }
        },
        array.items);
  }

  const gguf::GgufFile& file_;
  std::string arch_;
};

Architecture parse_architecture(const std::string& name) {
  if (name == "llama") return Architecture::Llama;
  if (name == "qwen2moe") return Architecture::Qwen2Moe;
  if (name == "qwen3moe") return Architecture::Qwen3Moe;
  if (name == "olmoe") return Architecture::Olmoe;
  if (name == "granitemoe") return Architecture::GraniteMoe;
  if (name == "phimoe") return Architecture::PhiMoe;
  if (name == "deepseek2") return Architecture::Deepseek2;
  return Architecture::GptOss;  // callers checked is_supported_architecture first
}

RopeType rope_type_of(Architecture arch) {
  switch (arch) {
    case Architecture::Llama:
    case Architecture::GraniteMoe:
    case Architecture::Deepseek2:
      return RopeType::Norm;
    default:
      return RopeType::Neox;
  }
}

void check_range(const Keys& keys, std::string_view what, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) {
    fail("{}: '{}' = {} is out of range [{}, {}]", keys.path(), keys.key(what), value, lo, hi);
  }
}

// llama.cpp's get_mscale: the YaRN attention magnitude correction.
float yarn_mscale(float scale, float mscale) {
  return scale <= 1.0f ? 1.0f : 0.1f * mscale * logf(scale) + 1.0f;
}

}  // namespace

std::string_view gating_func_name(GatingFunc gating) {
  switch (gating) {
    case GatingFunc::Softmax:
      return "softmax";
    case GatingFunc::Sigmoid:
      return "sigmoid";
    case GatingFunc::SoftmaxWeight:
      return "softmax_weight";
    case GatingFunc::SqrtSoftplus:
      return "sqrt_softplus";
  }
  return "?";
}

namespace {

// The model's size: context, width, depth and vocabulary (checked against the tokenizer's list).
void read_dimensions(const gguf::GgufFile& file, const Keys& k, ModelHParams& hp) {
  hp.n_ctx_train = k.req_int("context_length");
  hp.n_embd = k.req_int("embedding_length");
  hp.n_layer = k.req_int("block_count");
  check_range(k, "context_length", hp.n_ctx_train, 1, INT32_MAX);
  check_range(k, "embedding_length", hp.n_embd, 1, kMaxEmbd);
  check_range(k, "block_count", hp.n_layer, 1, kMaxLayers);

  const gguf::ArrayValue* tokens = file.get_array("tokenizer.ggml.tokens");
  if (auto v = k.opt_int("vocab_size")) {
    hp.n_vocab = *v;
    check_range(k, "vocab_size", hp.n_vocab, 1, INT32_MAX);
    if (tokens != nullptr && static_cast<int64_t>(tokens->size()) != hp.n_vocab) {
      fail("{}: '{}' is {} but tokenizer.ggml.tokens has {} entries", k.path(), k.key("vocab_size"),
           hp.n_vocab, tokens->size());
    }
  } else if (tokens != nullptr) {
    hp.n_vocab = static_cast<int64_t>(tokens->size());
  }
  check_range(k, "vocab_size", hp.n_vocab, 0, INT32_MAX);
}

// Heads per layer (query and KV), feed-forward widths, head sizes, rotary dimensions and the
// RMS-norm epsilon.
void read_attention(const Keys& k, ModelHParams& hp) {
  auto heads = k.per_layer("attention.head_count", hp.n_layer);
  if (!heads) k.missing("attention.head_count");
  hp.n_head_arr = *heads;
  hp.n_head_kv_arr = k.per_layer("attention.head_count_kv", hp.n_layer).value_or(hp.n_head_arr);
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    check_range(k, "attention.head_count", hp.n_head_arr[il], 1, kMaxHeads);
    check_range(k, "attention.head_count_kv", hp.n_head_kv_arr[il], 1, kMaxHeads);
    if (hp.n_head_arr[il] % hp.n_head_kv_arr[il] != 0) {
      fail("{}: '{}' = {} is not a multiple of '{}' = {} (layer {})", k.path(),
           k.key("attention.head_count"), hp.n_head_arr[il], k.key("attention.head_count_kv"),
           hp.n_head_kv_arr[il], il);
    }
  }
  hp.n_ff_arr =
      k.per_layer("feed_forward_length", hp.n_layer).value_or(std::vector<int64_t>(hp.n_layer, 0));
  for (int64_t ff : hp.n_ff_arr) check_range(k, "feed_forward_length", ff, 0, kMaxFf);

  // Without explicit head sizes the heads split the embedding evenly (llama.cpp's default).
  const bool explicit_head_dims =
      k.opt_int("attention.key_length") && k.opt_int("attention.value_length");
  if (!explicit_head_dims && hp.n_embd % hp.n_head(0) != 0) {
    fail("{}: '{}' = {} does not divide '{}' = {}", k.path(), k.key("attention.head_count"),
         hp.n_head(0), k.key("embedding_length"), hp.n_embd);
  }
  hp.head_dim_k = k.int_or("attention.key_length", hp.n_embd / hp.n_head(0));
  hp.head_dim_v = k.int_or("attention.value_length", hp.n_embd / hp.n_head(0));
  check_range(k, "attention.key_length", hp.head_dim_k, 1, kMaxHeadDim);
  check_range(k, "attention.value_length", hp.head_dim_v, 1, kMaxHeadDim);
  hp.n_rot = k.int_or("rope.dimension_count", hp.head_dim_k);
  // Every supported graph rotates part of each head; 0 would silently run without positions.
  check_range(k, "rope.dimension_count", hp.n_rot, 2, kMaxHeadDim);
  if (hp.n_rot % 2 != 0) fail("{}: rope.dimension_count {} is odd", k.path(), hp.n_rot);
  if (hp.n_rot > hp.head_dim_k) {
    fail("{}: rope.dimension_count {} exceeds the head size {}", k.path(), hp.n_rot, hp.head_dim_k);
  }
  if (hp.arch == Architecture::Llama && hp.n_rot != hp.head_dim_k) {
    fail("{}: invalid n_rot {} (llama needs the head size {})", k.path(), hp.n_rot, hp.head_dim_k);
  }

  hp.rms_eps = k.req_float("attention.layer_norm_rms_epsilon");
  if (!(hp.rms_eps >= 0.0f)) fail("{}: negative layer_norm_rms_epsilon", k.path());
}

// Expert count, top-k and the expert groups of group-limited routing.
void read_experts(const Keys& k, ModelHParams& hp) {
  hp.n_expert = k.int_or("expert_count", 0);
  hp.n_expert_used = k.int_or("expert_used_count", 0);
  check_range(k, "expert_count", hp.n_expert, 0, kMaxExperts);
  if (hp.n_expert_used > hp.n_expert) {
    fail("{}: '{}' = {} exceeds '{}' = {}", k.path(), k.key("expert_used_count"), hp.n_expert_used,
         k.key("expert_count"), hp.n_expert);
  }
  check_range(k, "expert_used_count", hp.n_expert_used, 0, hp.n_expert);
  if ((hp.n_expert > 0) != (hp.n_expert_used > 0)) {
    fail("{}: expert_count {} and expert_used_count {} must both be zero or both positive",
         k.path(), hp.n_expert, hp.n_expert_used);
  }
  if (hp.arch != Architecture::Llama && hp.arch != Architecture::Deepseek2 && hp.n_expert == 0) {
    fail("{}: {} needs '{}' > 0", k.path(), hp.architecture, k.key("expert_count"));
  }
  hp.n_expert_groups = k.int_or("expert_group_count", 0);
  hp.n_group_used = k.int_or("expert_group_used_count", 0);
  // Absent means one group; a stored count must name at least one group of real experts.
  if (k.opt_int("expert_group_count")) {
    check_range(k, "expert_group_count", hp.n_expert_groups, 1, std::max<int64_t>(hp.n_expert, 1));
  }
  if (k.opt_int("expert_group_used_count")) {
    check_range(k, "expert_group_used_count", hp.n_group_used, 0,
                std::max<int64_t>(hp.n_expert_groups, 1));
  }
  if (hp.n_expert_groups > 1) {
    if (hp.n_expert_groups >= hp.n_expert || hp.n_expert % hp.n_expert_groups != 0 ||
        hp.n_group_used <= 0 || hp.n_group_used >= hp.n_expert_groups) {
      fail("{}: bad expert groups: {} groups, {} used, {} experts", k.path(), hp.n_expert_groups,
           hp.n_group_used, hp.n_expert);
    }
  }
}

// DeepSeek-V2/V3: dense leading blocks, multi-head latent attention ranks, shared experts, the
// gating function and the YaRN log multiplier.
void read_deepseek2(const Keys& k, ModelHParams& hp) {
  hp.n_layer_dense_lead = k.int_or("leading_dense_block_count", 0);
  check_range(k, "leading_dense_block_count", hp.n_layer_dense_lead, 0, hp.n_layer);
  const bool lite_sized =
      hp.n_layer == 26 || hp.n_layer == 27 || (hp.n_layer == 48 && hp.n_vocab == 128256);
  hp.q_lora_rank =
      lite_sized ? k.int_or("attention.q_lora_rank", 0) : k.req_int("attention.q_lora_rank");
  hp.kv_lora_rank = k.req_int("attention.kv_lora_rank");
  check_range(k, "attention.q_lora_rank", hp.q_lora_rank, 0, kMaxEmbd);
  check_range(k, "attention.kv_lora_rank", hp.kv_lora_rank, 1, kMaxEmbd);
  hp.head_dim_k_mla = k.int_or("attention.key_length_mla", 0);
  hp.head_dim_v_mla = k.int_or("attention.value_length_mla", 0);
  check_range(k, "attention.key_length_mla", hp.head_dim_k_mla, 0, kMaxHeadDim);
  check_range(k, "attention.value_length_mla", hp.head_dim_v_mla, 0, kMaxHeadDim);
  if (hp.n_expert > 0) {
    hp.n_ff_exp = k.req_int("expert_feed_forward_length");
    hp.n_expert_shared = k.req_int("expert_shared_count");
    check_range(k, "expert_shared_count", hp.n_expert_shared, 0, kMaxExperts);
    hp.n_ff_shexp = hp.n_ff_exp * hp.n_expert_shared;
  }
  hp.expert_weights_scale = k.float_or("expert_weights_scale", 0.0f);
  hp.expert_weights_norm = k.bool_or("expert_weights_norm", false);
  const int64_t gating = k.int_or("expert_gating_func", 0);
  check_range(k, "expert_gating_func", gating, 0, 4);
  hp.gating = gating == 0 ? GatingFunc::Softmax : static_cast<GatingFunc>(gating);
  if (hp.gating == GatingFunc::SoftmaxWeight) {
    fail("{}: expert_gating_func 3 (softmax_weight) is not used by deepseek2", k.path());
  }
  // The converter stores 0.1 * mscale_all_dim.
  hp.yarn_log_mul = k.float_or("rope.scaling.yarn_log_multiplier", 0.0f) / 0.1f;
}

// gpt-oss: expert width, softmax-weight gating and which layers use sliding-window attention.
void read_gpt_oss(const gguf::GgufFile& file, const Keys& k, ModelHParams& hp) {
  hp.n_ff_exp = k.req_int("expert_feed_forward_length");
  hp.gating = GatingFunc::SoftmaxWeight;
  hp.n_swa = k.req_int("attention.sliding_window");
  check_range(k, "attention.sliding_window", hp.n_swa, 1, INT32_MAX);
  hp.swa_layers.assign(hp.n_layer, false);
  const gguf::Value* pattern = file.find(k.key("attention.sliding_window_pattern"));
  if (pattern != nullptr && pattern->type() == gguf::ValueType::Array) {
    const auto* flags = std::get_if<std::vector<bool>>(&pattern->as_array().items);
    if (flags == nullptr || static_cast<int64_t>(flags->size()) != hp.n_layer) {
      fail("{}: '{}' must be one bool per layer", k.path(),
           k.key("attention.sliding_window_pattern"));
    }
    for (int64_t il = 0; il < hp.n_layer; ++il) hp.swa_layers[il] = (*flags)[il];
  } else {
    const int64_t period = pattern ? pattern->as_int() : 2;
    check_range(k, "attention.sliding_window_pattern", period, 0, kMaxLayers);
    // llama.cpp's set_swa_pattern: the last layer of every period is a full-attention layer.
    for (int64_t il = 0; il < hp.n_layer; ++il) {
      hp.swa_layers[il] = period == 0 || il % period < period - 1;
    }
  }
}

// What each architecture adds: expert widths, scales, weight normalisation and its own keys.
void read_architecture_keys(const gguf::GgufFile& file, const Keys& k, ModelHParams& hp) {
  switch (hp.arch) {
    case Architecture::Llama:
      hp.expert_weights_norm = true;
      hp.attention_scale = k.float_or("attention.scale", 0.0f);
      break;
    case Architecture::Qwen2Moe: {
      const int64_t used = std::max<int64_t>(hp.n_expert_used, 1);
      hp.n_ff_exp = k.int_or("expert_feed_forward_length", hp.n_ff(0) / used);
      hp.n_ff_shexp = k.int_or("expert_shared_feed_forward_length", hp.n_ff(0));
      break;
    }
    case Architecture::Qwen3Moe:
      hp.n_ff_exp = k.int_or("expert_feed_forward_length",
                             hp.n_ff(0) / std::max<int64_t>(hp.n_expert_used, 1));
      hp.expert_weights_norm = true;
      break;
    case Architecture::Olmoe:
      if (hp.n_head_kv(0) * hp.head_dim_k != hp.n_embd) {
        fail("{}: olmoe needs n_head_kv == n_head (its k norm spans n_embd); got {} KV heads",
             k.path(), hp.n_head_kv(0));
      }
      break;
    case Architecture::GraniteMoe:
      hp.expert_weights_norm = true;
      hp.logit_scale = k.req_float("logit_scale");
      hp.embedding_scale = k.float_or("embedding_scale", 0.0f);
      hp.residual_scale = k.float_or("residual_scale", 0.0f);
      hp.attention_scale = k.float_or("attention.scale", 0.0f);
      hp.n_ff_shexp = k.int_or("expert_shared_feed_forward_length", 0);
      hp.use_rope = k.bool_or("rope.scaling.finetuned", true);
      break;
    case Architecture::PhiMoe:
      hp.expert_weights_norm = true;
      break;
    case Architecture::Deepseek2:
      read_deepseek2(k, hp);
      break;
    case Architecture::GptOss:
      read_gpt_oss(file, k, hp);
      break;
  }
  if (hp.swa_layers.empty()) hp.swa_layers.assign(hp.n_layer, false);
  if (hp.n_ff_exp < 0 || hp.n_ff_exp > kMaxFf || hp.n_ff_shexp < 0 || hp.n_ff_shexp > kMaxFf) {
    fail("{}: expert feed-forward length out of range", k.path());
  }
}

RopeScalingType parse_rope_scaling(const gguf::GgufFile& file, const Keys& k) {
  const std::string scaling =
      file.get_string(k.key("rope.scaling.type")).value_or(std::string("linear"));
  if (scaling == "none") return RopeScalingType::None;
  if (scaling == "linear") return RopeScalingType::Linear;
  if (scaling == "yarn") return RopeScalingType::Yarn;
  if (scaling == "longrope") return RopeScalingType::LongRope;
  fail("{}: unknown '{}' value '{}'", k.path(), k.key("rope.scaling.type"), scaling);
}

// RoPE and its context-time resolution (llama_context's constructor).
void read_rope(const gguf::GgufFile& file, const Keys& k, ModelHParams& hp) {
  hp.rope_type = rope_type_of(hp.arch);
  hp.rope_freq_base = k.float_or("rope.freq_base", 10000.0f);
  hp.rope_freq_base_swa = k.float_or("rope.freq_base_swa", hp.rope_freq_base);
  if (!(hp.rope_freq_base > 0.0f) || !(hp.rope_freq_base_swa > 0.0f)) {
    fail("{}: '{}' must be positive", k.path(), k.key("rope.freq_base"));
  }
  hp.rope_scaling = parse_rope_scaling(file, k);
  float factor = k.float_or("rope.scaling.factor", 0.0f);
  if (factor == 0.0f) factor = k.float_or("rope.scale_linear", 0.0f);
  if (!(factor >= 0.0f) || std::isinf(factor)) {
    fail("{}: bad '{}' {}", k.path(), k.key("rope.scaling.factor"), factor);
  }
  hp.rope_freq_scale = factor == 0.0f ? 1.0f : 1.0f / factor;
  if (hp.rope_scaling == RopeScalingType::None) hp.rope_freq_scale = 1.0f;
  hp.n_ctx_orig_yarn = k.int_or("rope.scaling.original_context_length", hp.n_ctx_train);
  check_range(k, "rope.scaling.original_context_length", hp.n_ctx_orig_yarn, 1, INT32_MAX);
  hp.rope_attn_factor = k.float_or("rope.scaling.attn_factor", 1.0f);
  hp.yarn_ext_factor = hp.rope_scaling == RopeScalingType::Yarn ? 1.0f : 0.0f;
  if (hp.yarn_ext_factor != 0.0f) {
    const float f = 1.0f / hp.rope_freq_scale;
    if (hp.yarn_log_mul != 0.0f) {
      const float mscale_all_dims = hp.yarn_log_mul;
      const float mscale =
          hp.arch == Architecture::Deepseek2 && mscale_all_dims != 1.0f ? mscale_all_dims : 1.0f;
      hp.rope_attn_factor = yarn_mscale(f, mscale) / yarn_mscale(f, mscale_all_dims);
    } else {
      hp.rope_attn_factor = yarn_mscale(f, 1.0f);
    }
    // ggml's rope multiplies by 1 + 0.1 ln f again whenever ext_factor != 0; cancel it here.
    hp.rope_attn_factor *= 1.0f / (1.0f + 0.1f * logf(f));
  }
}

}  // namespace

ModelHParams read_hparams(const gguf::GgufFile& file) {
  ModelHParams hp;
  auto arch_name = file.get_string("general.architecture");
  if (!arch_name) fail("{}: missing required key 'general.architecture'", file.path().string());
  if (!is_supported_architecture(*arch_name)) {
    fail("{}: architecture '{}' is not supported (supported: {})", file.path().string(), *arch_name,
         supported_architectures_list());
  }
  hp.architecture = *arch_name;
  hp.arch = parse_architecture(hp.architecture);
  const Keys k(file, hp.architecture);

  // The order matters: each step checks what the later ones divide by or index with.
  read_dimensions(file, k, hp);
  read_attention(k, hp);
  read_experts(k, hp);
  read_architecture_keys(file, k, hp);
  read_rope(file, k, hp);
  return hp;
}

}  // namespace moescope
