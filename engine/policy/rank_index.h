#pragma once
// Resident entries ordered for eviction, one ordered set per layer; the smallest rank leaves
// first. Most policies are "rank every resident entry, evict the minimum": LRU, FIFO, LFU, MRS,
// Belady, SCH. A global victim is the minimum over the layers' minima (O(n_layers)).
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <tuple>
#include <vector>

#include "engine/common/ids.h"
#include "engine/policy/moe_shape.h"
#include "engine/policy/policy.h"

namespace moescope::policy {

struct Rank {
  double primary = 0;     // policy score (never NaN)
  int64_t secondary = 0;  // tie-break, usually the last-use tick (LRU)
  auto operator<=>(const Rank&) const = default;
};

class RankIndex {
 public:
  void reset(const MoeShape& shape);

  void set(ExpertKey k, Rank r);  // insert or re-rank
  void erase(ExpertKey k);
  bool contains(ExpertKey k) const { return present_[index(k)] != 0; }
  const Rank& rank(ExpertKey k) const { return rank_[index(k)]; }
  std::span<const int64_t> residents_per_layer() const { return count_; }

  // Lowest-ranked entry of layer l that is not pinned.
  std::optional<ExpertKey> min_in_layer(MoeLayerId l, std::span<const ExpertKey> pinned) const;

  // Lowest over the layers for which ok(l) holds. With scale, layer l's primary is compared
  // multiplied by scale[l] (for scores kept in per-layer units). Ties: secondary, then key.
  template <typename LayerOk>
  std::optional<ExpertKey> min_where(LayerOk ok, std::span<const ExpertKey> pinned,
                                     std::span<const double> scale = {}) const {
    std::optional<ExpertKey> best;
    Rank best_rank;
    for (int32_t l = 0; l < int32_t(sets_.size()); ++l) {
      if (count_[l] == 0 || !ok(l)) continue;
      const std::optional<ExpertKey> c = min_in_layer(MoeLayerId(l), pinned);
      if (!c) continue;
      Rank r = rank(*c);
      if (!scale.empty()) r.primary *= scale[l];
      if (!best || r < best_rank) {
        best = c;
        best_rank = r;
      }
    }
    return best;
  }

  // The minimum in a partition: one layer, or every layer for the global pool.
  std::optional<ExpertKey> min_in_scope(std::optional<MoeLayerId> scope,
                                        std::span<const ExpertKey> pinned,
                                        std::span<const double> scale = {}) const {
    if (scope) return min_in_layer(*scope, pinned);
    return min_where([](int32_t) { return true; }, pinned, scale);
  }

 private:
  using Item = std::tuple<double, int64_t, int32_t>;  // primary, secondary, expert
  int64_t index(ExpertKey k) const { return shape_->key_index(k); }

  const MoeShape* shape_ = nullptr;
  std::vector<std::set<Item>> sets_;  // [n_layers]
  std::vector<int64_t> count_;        // [n_layers]
  std::vector<Rank> rank_;            // [total experts]
  std::vector<uint8_t> present_;      // [total experts]
};

}  // namespace moescope::policy
