#pragma once
// Helpers shared by the prefetchers.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "engine/common/ids.h"

namespace moescope::policy {

// The k highest positive scores, highest first; ties go to the lower expert id.
template <typename T>
void top_scores(std::span<const T> score, int32_t k, std::vector<ExpertId>& out) {
  out.clear();
  std::vector<int32_t> idx;
  for (int32_t e = 0; e < int32_t(score.size()); ++e)
    if (score[e] > 0) idx.push_back(e);
  const size_t n = std::min(idx.size(), size_t(std::max(k, 0)));
  std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), [&](int32_t a, int32_t b) {
    return score[a] != score[b] ? score[a] > score[b] : a < b;
  });
  for (size_t i = 0; i < n; ++i) out.push_back(ExpertId(idx[i]));
}

}  // namespace moescope::policy
