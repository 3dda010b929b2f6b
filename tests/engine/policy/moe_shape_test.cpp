// MoeShape's conversion between model blocks and MoE layers, the one place the two index spaces
// meet: a hand-built shape whose MoE layers are not the first blocks and not contiguous.
#include "engine/policy/moe_shape.h"

#include <gtest/gtest.h>

#include <optional>

#include "engine/common/error.h"

namespace moescope::policy {
namespace {

MoeShape shape_with_blocks(std::vector<int32_t> blocks) {
  MoeShape s;
  const size_t n = blocks.size();
  s.n_experts.assign(n, 4);
  s.top_k.assign(n, 2);
  s.expert_bytes.assign(n, 64);
  s.model_layer = std::move(blocks);
  s.validate();
  return s;
}

TEST(MoeShape, ConvertsBetweenModelBlocksAndMoeLayers) {
  // Blocks 0 and 4..12 are dense: MoE layers 0, 1, 2, 3 are blocks 1, 2, 3, 13.
  const MoeShape s = shape_with_blocks({1, 2, 3, 13});
  EXPECT_EQ(s.block(MoeLayerId(0)), LayerId(1));
  EXPECT_EQ(s.block(MoeLayerId(3)), LayerId(13));
  EXPECT_EQ(s.moe_layer(LayerId(1)), MoeLayerId(0));
  EXPECT_EQ(s.moe_layer(LayerId(3)), MoeLayerId(2));
  EXPECT_EQ(s.moe_layer(LayerId(13)), MoeLayerId(3));
  for (int32_t dense : {0, 4, 12, 14, -1}) {
    EXPECT_EQ(s.moe_layer(LayerId(dense)), std::nullopt) << "block " << dense;
  }
  for (int32_t m = 0; m < s.n_layers(); ++m) {
    EXPECT_EQ(s.moe_layer(s.block(MoeLayerId(m))), MoeLayerId(m));
  }
}

TEST(MoeShape, WithoutBlockIndicesMoeLayerLIsBlockL) {
  const MoeShape s = MoeShape::uniform(3, 8, 2, 100);
  EXPECT_EQ(s.block(MoeLayerId(2)), LayerId(2));
  EXPECT_EQ(s.moe_layer(LayerId(2)), MoeLayerId(2));
  EXPECT_EQ(s.moe_layer(LayerId(3)), std::nullopt);
}

TEST(MoeShape, RefusesBlocksThatCannotBeConverted) {
  EXPECT_THROW(shape_with_blocks({1, 1}), Error);   // two MoE layers in one block
  EXPECT_THROW(shape_with_blocks({0, -2}), Error);  // negative block
  EXPECT_THROW(shape_with_blocks({0, 1 << 20}), Error);
}

}  // namespace
}  // namespace moescope::policy
