// Equivalent tensor layouts llama.cpp accepts but no reference model uses: rebuilt from a
// reference model, each must reproduce llama.cpp's logits for the original file.
// - deepseek2 attention: the decompressed attn_kv_b instead of the split attn_k_b / attn_v_b;
// - fused attn_qkv (rows [q | k | v]) instead of separate projections;
// - fused ffn_gate_up_exps (per expert rows [gate | up]) instead of separate gate/up experts.
#include <gtest/gtest.h>

#include "engine/model/hparams.h"
#include "engine/model/model.h"
#include "tests/engine/model/model_builder.h"
#include "tests/engine/model/reference.h"

namespace moescope::test {
namespace {

// attn_kv_b {kv_lora, H*(nope + v)}: per head, rows [k_nope (nope) | v (v)], each of kv_lora
// values; from k_b {nope, kv_lora, H} (k_b[h][r][n]) and v_b {kv_lora, v, H} (v_b[h][j][r]).
std::vector<float> decompressed_kv_b(const std::vector<float>& k_b, const std::vector<float>& v_b,
                                     int64_t H, int64_t kvlr, int64_t nope, int64_t v) {
  std::vector<float> kv_b(H * (nope + v) * kvlr);
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t r = 0; r < kvlr; ++r) {
      for (int64_t n = 0; n < nope; ++n) {
        kv_b[(h * (nope + v) + n) * kvlr + r] = k_b[(h * kvlr + r) * nope + n];
      }
      for (int64_t j = 0; j < v; ++j) {
        kv_b[(h * (nope + v) + nope + j) * kvlr + r] = v_b[(h * v + j) * kvlr + r];
      }
    }
  }
  return kv_b;
}

gguf::GgufWriter to_legacy_layout(const gguf::GgufFile& src) {
  const ModelHParams hp = read_hparams(src);
  const int64_t H = hp.n_head(0), kvlr = hp.kv_lora_rank, v = hp.head_dim_v_mla;
  const int64_t nope = hp.head_dim_k_mla - hp.n_rot;
  CopyFilter filter;
  filter.keep_key = [](const std::string& k) { return k.find("_mla") == std::string::npos; };
  filter.keep_tensor = [](const gguf::TensorInfo& t) {
    return t.name.find("attn_k_b") == std::string::npos &&
           t.name.find("attn_v_b") == std::string::npos;
  };
  auto writer = copy_model(src, filter);
  writer.set_u32("deepseek2.attention.head_count_kv", static_cast<uint32_t>(H));
  writer.set_u32("deepseek2.attention.key_length", static_cast<uint32_t>(nope + hp.n_rot));
  writer.set_u32("deepseek2.attention.value_length", static_cast<uint32_t>(v));
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const std::string blk = "blk." + std::to_string(il) + ".";
    const auto kv_b =
        decompressed_kv_b(tensor_values(src, blk + "attn_k_b.weight"),
                          tensor_values(src, blk + "attn_v_b.weight"), H, kvlr, nope, v);
    writer.add_tensor_f32(blk + "attn_kv_b.weight", {kvlr, H * (nope + v)}, kv_b);
  }
  return writer;
}

// Runs the variant and checks it against llama.cpp's reference for the original model.
void expect_matches_reference(const std::string& model, const gguf::GgufWriter& variant,
                              const char* what) {
  const ReferenceRun ref = read_reference(model);
  RoutingRecorder recorder;
  ModelOptions options;
  options.observer = &recorder;
  auto m = load_model(variant, options);
  auto state = m->new_state();
  std::vector<float> logits(ref.tokens.size() * m->n_vocab());
  m->forward(ref.tokens, *state, logits, true);
  const LogitStats s = compare_logits(logits, ref.logits, ref.n_vocab);
  std::printf("[stats] %-12s %-22s max %.3g\n", what, model.c_str(), s.max_abs);
  EXPECT_LE(s.max_abs, 1e-3);
  EXPECT_EQ(s.argmax_agreement, 1.0);
  EXPECT_EQ(recorder.routing, ref.routing);
}

// Same weights, same kernels: equal to the original layout up to the batched kernels' tiling.
void expect_matches_original(const std::string& model, const gguf::GgufWriter& variant) {
  const ReferenceRun ref = read_reference(model);
  auto original = Model::load(model_path(model), ModelOptions{});
  auto changed = load_model(variant);
  auto s1 = original->new_state();
  auto s2 = changed->new_state();
  std::vector<float> a(ref.tokens.size() * ref.n_vocab), b(a.size());
  original->forward(ref.tokens, *s1, a, true);
  changed->forward(ref.tokens, *s2, b, true);
  EXPECT_LE(compare_logits(b, a, ref.n_vocab).max_abs, 1e-4);
}

std::vector<std::byte> bytes_of(const gguf::GgufFile& f, const std::string& name) {
  const auto span = f.tensor_data(*f.find_tensor(name));
  return {span.begin(), span.end()};
}

TEST(LayoutVariants, DecompressedMlaKvB) {
  for (const std::string model : {"deepseek2-lite-f32", "deepseek2-v3-f32"}) {
    SCOPED_TRACE(model);
    const auto src = gguf::GgufFile::open(model_path(model));
    const auto variant = to_legacy_layout(src);
    EXPECT_FALSE(read_hparams(to_file(variant)).is_mla());
    expect_matches_reference(model, variant, "kv_b");
  }
}

TEST(LayoutVariants, FusedQkv) {
  for (const std::string model : {"qwen2moe-f32", "gpt-oss-f32", "qwen2moe-q8_0"}) {  // biased
    SCOPED_TRACE(model);
    const auto src = gguf::GgufFile::open(model_path(model));
    CopyFilter filter;
    filter.keep_tensor = [](const gguf::TensorInfo& t) {
      for (const char* part : {".attn_q.", ".attn_k.", ".attn_v."}) {
        if (t.name.find(part) != std::string::npos) return false;
      }
      return true;
    };
    auto writer = copy_model(src, filter);
    const ModelHParams hp = read_hparams(src);
    for (int64_t il = 0; il < hp.n_layer; ++il) {
      const std::string blk = "blk." + std::to_string(il) + ".";
      std::vector<std::byte> weight, bias;
      int64_t rows = 0;
      for (const char* p : {"attn_q", "attn_k", "attn_v"}) {
        const auto w = bytes_of(src, blk + p + ".weight");
        weight.insert(weight.end(), w.begin(), w.end());
        rows += src.find_tensor(blk + p + ".weight")->dim(1);
        const auto b = bytes_of(src, blk + p + ".bias");  // F32 biases
        bias.insert(bias.end(), b.begin(), b.end());
      }
      const gguf::TensorInfo& q = *src.find_tensor(blk + "attn_q.weight");
      writer.add_tensor(blk + "attn_qkv.weight", q.type, {hp.n_embd, rows}, weight);
      writer.add_tensor(blk + "attn_qkv.bias", GgmlType::F32, {rows}, bias);
    }
    if (model.ends_with("f32")) {
      expect_matches_reference(model, writer, "fused qkv");
    } else {
      expect_matches_original(model, writer);
    }
  }
}

TEST(LayoutVariants, FusedGateUpExperts) {
  const std::string model = "deepseek2-v3-q8_0";
  const auto src = gguf::GgufFile::open(model_path(model));
  CopyFilter filter;
  filter.keep_tensor = [](const gguf::TensorInfo& t) {
    return t.name.find("ffn_gate_exps") == std::string::npos &&
           t.name.find("ffn_up_exps") == std::string::npos;
  };
  auto writer = copy_model(src, filter);
  const ModelHParams hp = read_hparams(src);
  for (int64_t il = hp.n_layer_dense_lead; il < hp.n_layer; ++il) {
    const std::string blk = "blk." + std::to_string(il) + ".";
    const auto gate = bytes_of(src, blk + "ffn_gate_exps.weight");
    const auto up = bytes_of(src, blk + "ffn_up_exps.weight");
    const size_t slice = gate.size() / hp.n_expert;
    std::vector<std::byte> fused;
    for (int64_t e = 0; e < hp.n_expert; ++e) {
      fused.insert(fused.end(), gate.begin() + e * slice, gate.begin() + (e + 1) * slice);
      fused.insert(fused.end(), up.begin() + e * slice, up.begin() + (e + 1) * slice);
    }
    writer.add_tensor(blk + "ffn_gate_up_exps.weight", GgmlType::Q8_0,
                      {hp.n_embd, 2 * hp.n_ff_exp, hp.n_expert}, fused);
  }
  expect_matches_original(model, writer);
}

}  // namespace
}  // namespace moescope::test
