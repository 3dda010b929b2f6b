#include "engine/common/ids.h"

#include <gtest/gtest.h>

#include <type_traits>
#include <unordered_set>

namespace moescope {
namespace {

TEST(StrongIds, DoNotConvertIntoEachOther) {
  static_assert(!std::is_convertible_v<LayerId, ExpertId>);
  static_assert(!std::is_convertible_v<int, LayerId>);
  EXPECT_LT(LayerId(1), LayerId(2));
}

// A model block and a MoE layer are different index spaces (they differ by the leading dense
// blocks): mixing them up, or either with a plain int, does not compile.
TEST(StrongIds, ModelBlocksAndMoeLayersDoNotConvertIntoEachOther) {
  static_assert(!std::is_convertible_v<LayerId, MoeLayerId>);
  static_assert(!std::is_convertible_v<MoeLayerId, LayerId>);
  static_assert(!std::is_constructible_v<MoeLayerId, LayerId>);
  static_assert(!std::is_constructible_v<LayerId, MoeLayerId>);
  static_assert(!std::is_assignable_v<MoeLayerId&, LayerId>);
  static_assert(!std::is_convertible_v<int, MoeLayerId>);
  static_assert(!std::is_convertible_v<MoeLayerId, int>);
  static_assert(std::is_same_v<decltype(ExpertKey::layer), MoeLayerId>);
  EXPECT_EQ(MoeLayerId(3).value, 3);
}

TEST(ExpertKey, HashesDistinguishLayerAndExpert) {
  std::unordered_set<ExpertKey> keys;
  keys.insert({MoeLayerId(0), ExpertId(1)});
  keys.insert({MoeLayerId(1), ExpertId(0)});
  keys.insert({MoeLayerId(0), ExpertId(1)});
  EXPECT_EQ(keys.size(), 2u);
}

}  // namespace
}  // namespace moescope
