// The fast tier's buffers: aligned to a huge page (so that THP can back megabyte experts),
// disjoint, reused, and a buffer shrunk for a smaller expert keeps its bytes.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>

#include "engine/offload/expert_arena.h"

namespace moescope::offload {
namespace {

TEST(ExpertArena, BuffersStartOnAHugePageAndDoNotOverlap) {
  constexpr uint64_t kBytes = 3 * 1024 * 1024 + 100;  // a 3 MiB expert, not page-sized
  ExpertArena arena(3, kBytes);
  EXPECT_EQ(arena.n_free(), 3);
  std::set<int32_t> got;
  for (int i = 0; i < 3; ++i) got.insert(arena.allocate(kBytes));
  EXPECT_EQ(got, (std::set<int32_t>{0, 1, 2}));
  EXPECT_EQ(arena.allocate(kBytes), -1);
  const auto base = reinterpret_cast<uintptr_t>(arena.buffer(0, kBytes).data());
  EXPECT_EQ(base % (uint64_t{2} << 20), 0u);
  for (int32_t i = 0; i < 3; ++i) {
    auto b = arena.buffer(i, kBytes);
    EXPECT_GE(reinterpret_cast<uintptr_t>(b.data()), base + uint64_t(i) * kBytes);
    std::memset(b.data(), i + 1, b.size());  // every byte of every buffer is writable
  }
  for (int32_t i = 0; i < 3; ++i) {
    auto b = arena.buffer(i, kBytes);
    EXPECT_EQ(b[0], std::byte(i + 1));
    EXPECT_EQ(b[kBytes - 1], std::byte(i + 1));  // no buffer overwrote its neighbour
  }
  // A freed buffer is handed out again; shrinking it keeps the bytes it still holds.
  arena.free(1);
  EXPECT_EQ(arena.allocate(4096), 1);
  EXPECT_EQ(arena.buffer(1, 4096)[4095], std::byte(2));
  EXPECT_EQ(arena.max_in_use(), 3);
}

}  // namespace
}  // namespace moescope::offload
