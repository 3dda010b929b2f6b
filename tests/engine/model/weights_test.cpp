// Tensor checks at load: every problem is one clear error naming the tensor.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/common/error.h"
#include "engine/model/weights.h"
#include "tests/engine/model/model_builder.h"
#include "tests/engine/model/reference.h"

namespace moescope::test {
namespace {

using ::testing::HasSubstr;

std::string load_error(const gguf::GgufWriter& writer) {
  try {
    load_model(writer);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

gguf::GgufFile llama() {
  return gguf::GgufFile::open(model_path("llama-moe-f32"));
}

TEST(Weights, MissingTensorIsNamed) {
  const auto src = llama();
  for (const std::string name :
       {"blk.1.attn_k.weight", "blk.0.ffn_down_exps.weight", "output_norm.weight"}) {
    CopyFilter filter;
    filter.keep_tensor = [&](const gguf::TensorInfo& t) { return t.name != name; };
    EXPECT_THAT(load_error(copy_model(src, filter)), HasSubstr("missing tensor '" + name + "'"));
  }
}

TEST(Weights, WrongShapeIsNamedWithBothShapes) {
  const auto src = llama();
  CopyFilter filter;
  filter.keep_tensor = [](const gguf::TensorInfo& t) { return t.name != "blk.2.attn_q.weight"; };
  auto writer = copy_model(src, filter);
  writer.add_tensor_f32("blk.2.attn_q.weight", {128, 64}, std::vector<float>(128 * 64, 0.5f));
  const std::string message = load_error(writer);
  EXPECT_THAT(message, HasSubstr("'blk.2.attn_q.weight'"));
  EXPECT_THAT(message, HasSubstr("[128, 64]"));
  EXPECT_THAT(message, HasSubstr("[128, 128]"));
}

TEST(Weights, WrongExpertCountIsNamed) {
  const auto src = llama();
  CopyFilter filter;
  filter.keep_tensor = [](const gguf::TensorInfo& t) {
    return t.name != "blk.0.ffn_up_exps.weight";
  };
  auto writer = copy_model(src, filter);
  writer.add_tensor_f32("blk.0.ffn_up_exps.weight", {128, 64, 7},
                        std::vector<float>(128 * 64 * 7, 0.0f));
  EXPECT_THAT(load_error(writer), HasSubstr("'blk.0.ffn_up_exps.weight' has shape [128, 64, 7]"));
}

TEST(Weights, UnusedTensorIsRejectedNotIgnored) {
  // A per-tensor scale (NVFP4-style checkpoints) would change the result if ignored.
  auto writer = copy_model(llama());
  writer.add_tensor_f32("blk.0.attn_q.scale", {1}, std::vector<float>{2.0f});
  EXPECT_THAT(load_error(writer), HasSubstr("'blk.0.attn_q.scale' is not used"));
}

TEST(Weights, ExtraBlocksPastNLayerAreIgnored) {
  // NextN / multi-token-prediction layers live in blocks after n_layer.
  auto writer = copy_model(llama());
  writer.add_tensor_f32("blk.4.nextn.eh_proj.weight", {4}, std::vector<float>(4, 1.0f));
  EXPECT_NO_THROW(load_model(writer));
}

TEST(Weights, TiedOutputReusesTheEmbedding) {
  const auto src = gguf::GgufFile::open(model_path("llama-moe-tied-f32"));
  const ModelHParams hp = read_hparams(src);
  const ModelWeights w = load_weights(src, hp);
  EXPECT_EQ(w.output.w.data, w.tok_embd.data);
  // olmoe requires its own output matrix.
  const auto olmoe = gguf::GgufFile::open(model_path("olmoe-f32"));
  CopyFilter filter;
  filter.keep_tensor = [](const gguf::TensorInfo& t) { return t.name != "output.weight"; };
  EXPECT_THAT(load_error(copy_model(olmoe, filter)), HasSubstr("missing tensor 'output.weight'"));
}

TEST(Weights, ExpertTensorsDescribeEveryMoeLayer) {
  const auto src = gguf::GgufFile::open(model_path("deepseek2-v3-q8_0"));
  const ModelHParams hp = read_hparams(src);
  const ModelWeights w = load_weights(src, hp);
  ASSERT_EQ(w.experts.size(), 3u);
  EXPECT_EQ(w.experts[0].n_expert(), 0);  // the leading dense layer
  for (int il = 1; il < 3; ++il) {
    const LayerExpertTensors& t = w.experts[il];
    EXPECT_EQ(t.n_expert(), 8);
    // Q8_0: 34 bytes per 32 values; gate/up 32 rows of 64, down 64 rows of 32.
    EXPECT_EQ(t.slice_bytes(ExpertPart::Gate), 32u * 2 * 34);
    EXPECT_EQ(t.slice_bytes(ExpertPart::Down), 64u * 1 * 34);
    EXPECT_EQ(t.slice_bytes(ExpertPart::GateBias), 0u);
    EXPECT_EQ(t.packed_offset(ExpertPart::Up) % kPackedExpertAlignment, 0u);
    EXPECT_GE(t.packed_bytes(), 3 * 32u * 2 * 34);
  }
}

}  // namespace
}  // namespace moescope::test
