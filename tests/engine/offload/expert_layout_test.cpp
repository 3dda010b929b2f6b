// The store's view of MoE layers on a model whose first block is dense (deepseek2-lite:
// leading_dense_block_count): MoE layer m is block dense + m, and the layout converts both ways.
#include "engine/offload/expert_layout.h"

#include <gtest/gtest.h>

#include <optional>

#include "engine/model/model.h"
#include "tests/engine/offload/offload_test_util.h"

namespace moescope::offload {
namespace {

TEST(ExpertLayout, MoeLayersSkipTheLeadingDenseBlocks) {
  auto model = test::load_model("deepseek2-lite-f32");
  const ModelHParams& hp = model->hparams();
  const auto dense = static_cast<int32_t>(hp.n_layer_dense_lead);
  const auto blocks = static_cast<int32_t>(hp.n_layer);
  ASSERT_GT(dense, 0) << "deepseek2-lite should start with a dense block";
  const ExpertLayout layout = test::layout_of(*model);
  EXPECT_EQ(layout.n_model_layers(), blocks);
  ASSERT_EQ(layout.n_layers(), blocks - dense);
  for (int32_t b = 0; b < dense; ++b) {
    EXPECT_EQ(layout.moe_layer(LayerId(b)), std::nullopt) << "block " << b;
  }
  for (int32_t m = 0; m < layout.n_layers(); ++m) {
    EXPECT_EQ(layout.block(MoeLayerId(m)), LayerId(dense + m));
    EXPECT_EQ(layout.moe_layer(LayerId(dense + m)), MoeLayerId(m));
    // The experts of MoE layer m are the tensors of block dense + m.
    EXPECT_EQ(layout.n_expert(MoeLayerId(m)),
              model->expert_tensors()[size_t(dense + m)].n_expert());
  }
  EXPECT_EQ(layout.moe_layer(LayerId(blocks)), std::nullopt);
  EXPECT_EQ(layout.moe_layer(LayerId(-1)), std::nullopt);
}

}  // namespace
}  // namespace moescope::offload
