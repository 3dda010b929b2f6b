// Hyper-parameters read from GGUF against the generator's sidecar JSON of every reference model,
// and the errors for unsupported or malformed files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/common/error.h"
#include "engine/model/architectures.h"
#include "engine/model/hparams.h"
#include "tests/engine/model/model_builder.h"
#include "tests/engine/model/reference.h"

namespace moescope::test {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(HParams, MatchEverySidecar) {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(reference_dir() / "models")) {
    if (entry.path().extension() != ".json") continue;
    const auto gguf_path = std::filesystem::path(entry.path()).replace_extension(".gguf");
    if (!std::filesystem::exists(gguf_path)) continue;
    SCOPED_TRACE(gguf_path.filename().string());
    std::ifstream sidecar(entry.path());
    ASSERT_TRUE(sidecar) << entry.path();
    const auto j = nlohmann::json::parse(sidecar);
    const ModelHParams hp = read_hparams(gguf::GgufFile::open(gguf_path));
    auto num = [&](const char* key) { return j.at(key).get<double>(); };
    EXPECT_EQ(hp.architecture, j.at("arch").get<std::string>());
    EXPECT_EQ(hp.n_embd, num("n_embd"));
    EXPECT_EQ(hp.n_layer, num("n_layer"));
    EXPECT_EQ(hp.n_vocab, num("n_vocab"));
    EXPECT_EQ(hp.n_head(0), num("n_head"));
    EXPECT_EQ(hp.n_expert, num("n_expert"));
    EXPECT_EQ(hp.n_expert_used, num("n_expert_used"));
    EXPECT_FLOAT_EQ(hp.rms_eps, static_cast<float>(num("rms_eps")));
    EXPECT_FLOAT_EQ(hp.rope_freq_base, static_cast<float>(num("rope_base")));
    EXPECT_EQ(hp.n_ff(0), num("n_ff"));
    if (j.contains("n_ff_exp")) {
      EXPECT_EQ(hp.expert_ff(hp.n_layer - 1), num("n_ff_exp"));
    }
    if (j.contains("n_ff_shexp")) {
      EXPECT_EQ(hp.n_ff_shexp, num("n_ff_shexp"));
    }
    if (j.contains("head_dim")) {
      EXPECT_EQ(hp.head_dim_k, num("head_dim"));
    }
    if (hp.arch == Architecture::Deepseek2) {
      EXPECT_EQ(hp.n_expert_shared, num("n_expert_shared"));
      EXPECT_EQ(hp.n_layer_dense_lead, num("n_layer_dense_lead"));
      EXPECT_EQ(hp.q_lora_rank, num("q_lora_rank"));
      EXPECT_EQ(hp.kv_lora_rank, num("kv_lora_rank"));
      EXPECT_EQ(hp.n_rot, num("qk_rope"));
      EXPECT_EQ(hp.head_dim_k_mla, num("qk_nope") + num("qk_rope"));
      EXPECT_EQ(hp.head_dim_v_mla, num("v_head"));
      EXPECT_TRUE(hp.is_mla());
      EXPECT_FLOAT_EQ(hp.expert_weights_scale, static_cast<float>(num("expert_weights_scale")));
      EXPECT_EQ(hp.expert_weights_norm, j.at("expert_weights_norm").get<bool>());
      EXPECT_EQ(static_cast<int>(hp.gating), num("expert_gating_func"));
      if (j.contains("n_expert_groups")) {
        EXPECT_EQ(hp.n_expert_groups, num("n_expert_groups"));
        EXPECT_EQ(hp.n_group_used, num("n_group_used"));
      }
      EXPECT_NEAR(hp.yarn_log_mul, 10 * j.at("yarn").at("log_mul").get<double>(), 1e-6);
    } else {
      EXPECT_EQ(hp.n_head_kv(0), num("n_head_kv"));
    }
    if (j.contains("yarn")) {
      EXPECT_EQ(hp.rope_scaling, RopeScalingType::Yarn);
      EXPECT_FLOAT_EQ(hp.rope_freq_scale,
                      1.0f / static_cast<float>(j.at("yarn").at("factor").get<double>()));
      EXPECT_EQ(hp.n_ctx_orig_yarn, j.at("yarn").at("orig_ctx").get<double>());
    }
    if (hp.arch == Architecture::GraniteMoe) {
      EXPECT_FLOAT_EQ(hp.embedding_scale, static_cast<float>(num("embedding_scale")));
      EXPECT_FLOAT_EQ(hp.residual_scale, static_cast<float>(num("residual_scale")));
      EXPECT_FLOAT_EQ(hp.attention_scale, static_cast<float>(num("attention_scale")));
      EXPECT_FLOAT_EQ(hp.logit_scale, static_cast<float>(num("logit_scale")));
    }
    if (hp.arch == Architecture::GptOss) {
      EXPECT_EQ(hp.n_swa, num("sliding_window"));
      EXPECT_EQ(hp.gating, GatingFunc::SoftmaxWeight);
      // Period 2: even layers slide, odd layers see the whole context.
      for (int64_t il = 0; il < hp.n_layer; ++il) EXPECT_EQ(hp.is_swa(il), il % 2 == 0);
    }
    ++checked;
  }
  EXPECT_GE(checked, 28);
}

// The context-time YaRN values of Part 2 §7: gpt-oss keeps ggml's (1 + 0.1 ln f) magnitude in
// RoPE (attn_factor 1 here), deepseek2 cancels it (attn_factor 1 / (1 + 0.1 ln f)).
TEST(HParams, YarnAttentionFactors) {
  const float f = 4.0f;
  const auto gpt = read_hparams(gguf::GgufFile::open(model_path("gpt-oss-f32")));
  EXPECT_NEAR(gpt.rope_attn_factor, 1.0f, 1e-6);
  EXPECT_EQ(gpt.yarn_ext_factor, 1.0f);
  const auto ds = read_hparams(gguf::GgufFile::open(model_path("deepseek2-lite-f32")));
  EXPECT_NEAR(ds.rope_attn_factor, 1.0 / (1.0 + 0.1 * std::log(f)), 1e-6);
  const auto llama = read_hparams(gguf::GgufFile::open(model_path("llama-moe-f32")));
  EXPECT_EQ(llama.yarn_ext_factor, 0.0f);
  EXPECT_EQ(llama.rope_attn_factor, 1.0f);
  EXPECT_EQ(llama.rope_type, RopeType::Norm);
  EXPECT_EQ(read_hparams(gguf::GgufFile::open(model_path("qwen2moe-f32"))).rope_type,
            RopeType::Neox);
}

TEST(HParams, UnsupportedArchitectureListsTheSupportedOnes) {
  const auto src = gguf::GgufFile::open(model_path("llama-moe-f32"));
  auto writer = copy_model(src);
  writer.set_string("general.architecture", "mamba");
  const std::string message = error_of([&] { load_model(writer); });
  EXPECT_THAT(message, HasSubstr("'mamba'"));
  EXPECT_THAT(message, HasSubstr(supported_architectures_list()));
  for (auto arch : kSupportedArchitectures) EXPECT_THAT(message, HasSubstr(std::string(arch)));
}

TEST(HParams, MissingRequiredKeyIsNamed) {
  const auto src = gguf::GgufFile::open(model_path("llama-moe-f32"));
  for (const std::string key : {"llama.attention.layer_norm_rms_epsilon", "llama.block_count",
                                "llama.embedding_length", "llama.attention.head_count"}) {
    CopyFilter filter;
    filter.keep_key = [&](const std::string& k) { return k != key; };
    const auto writer = copy_model(src, filter);
    EXPECT_THAT(error_of([&] { load_model(writer); }), HasSubstr("'" + key + "'"));
  }
  const auto gpt = gguf::GgufFile::open(model_path("gpt-oss-f32"));
  CopyFilter filter;
  filter.keep_key = [](const std::string& k) { return k != "gpt-oss.attention.sliding_window"; };
  EXPECT_THAT(error_of([&] { load_model(copy_model(gpt, filter)); }),
              HasSubstr("'gpt-oss.attention.sliding_window'"));
}

TEST(HParams, RejectsInconsistentValues) {
  const auto src = gguf::GgufFile::open(model_path("llama-moe-f32"));
  auto more_used = copy_model(src);
  more_used.set_u32("llama.expert_used_count", 9);
  EXPECT_THAT(error_of([&] { load_model(more_used); }), HasSubstr("expert_used_count"));
  auto bad_rot = copy_model(src);
  bad_rot.set_u32("llama.rope.dimension_count", 16);
  EXPECT_THAT(error_of([&] { load_model(bad_rot); }), HasSubstr("n_rot"));
  auto bad_heads = copy_model(src);
  bad_heads.set_u32("llama.attention.head_count_kv", 3);
  EXPECT_THAT(error_of([&] { load_model(bad_heads); }), HasSubstr("head_count_kv"));
  auto bad_array = copy_model(src);
  bad_array.set_array("llama.feed_forward_length", std::vector<uint32_t>{64, 64});
  EXPECT_THAT(error_of([&] { load_model(bad_array); }), HasSubstr("one per layer"));
  auto zero_heads = copy_model(src);
  zero_heads.set_u32("llama.attention.head_count", 0);
  EXPECT_THAT(error_of([&] { load_model(zero_heads); }), HasSubstr("head_count"));
}

TEST(HParams, PerLayerArraysAreAccepted) {
  const auto src = gguf::GgufFile::open(model_path("llama-moe-f32"));
  auto writer = copy_model(src);
  writer.set_array("llama.feed_forward_length", std::vector<uint32_t>{64, 64, 64, 64});
  writer.set_array("llama.attention.head_count_kv", std::vector<int32_t>{2, 2, 2, 2});
  const ModelHParams hp = read_hparams(to_file(writer));
  EXPECT_EQ(hp.n_ff(3), 64);
  EXPECT_EQ(hp.n_head_kv(2), 2);
}

}  // namespace
}  // namespace moescope::test
