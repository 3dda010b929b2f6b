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

TEST(ExpertKey, HashesDistinguishLayerAndExpert) {
  std::unordered_set<ExpertKey> keys;
  keys.insert({LayerId(0), ExpertId(1)});
  keys.insert({LayerId(1), ExpertId(0)});
  keys.insert({LayerId(0), ExpertId(1)});
  EXPECT_EQ(keys.size(), 2u);
}

}  // namespace
}  // namespace moescope
