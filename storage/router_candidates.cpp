#include "storage/router_candidates.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "engine/common/error.h"
#include "storage/routing_blob.h"

namespace moescope::storage {

int32_t router_candidates_at(const policy::MoeShape& shape, int32_t layer) {
  return std::min(2 * shape.top_k[size_t(layer)], shape.n_experts[size_t(layer)]);
}

std::vector<int64_t> router_candidate_offsets(const policy::MoeShape& shape) {
  std::vector<int64_t> offsets(size_t(shape.n_layers()) + 1, 0);
  for (int32_t l = 0; l < shape.n_layers(); ++l) {
    offsets[size_t(l) + 1] = offsets[size_t(l)] + router_candidates_at(shape, l);
  }
  return offsets;
}

void top_router_candidates(std::span<const float> probs, int32_t m, ExpertId* experts,
                           float* scores) {
  if (m < 0 || size_t(m) > probs.size())
    fail("router candidates: {} of {} experts", m, probs.size());
  std::vector<int32_t> order(probs.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + m, order.end(), [&](int32_t a, int32_t b) {
    return probs[size_t(a)] > probs[size_t(b)] || (probs[size_t(a)] == probs[size_t(b)] && a < b);
  });
  for (int32_t i = 0; i < m; ++i) {
    experts[i] = ExpertId(order[size_t(i)]);
    scores[i] = probs[size_t(order[size_t(i)])];
  }
}

void encode_router_candidates(std::span<const ExpertId> experts, std::span<const float> scores,
                              int width, std::vector<std::byte>& experts_blob,
                              std::vector<std::byte>& scores_blob) {
  experts_blob.clear();
  scores_blob.clear();
  for (const ExpertId e : experts) {
    for (int b = 0; b < width; ++b) experts_blob.push_back(std::byte((e.value >> (8 * b)) & 0xff));
  }
  for (const float s : scores) append_f32(scores_blob, s);
}

RouterCandidates decode_router_candidates(const policy::MoeShape& shape, int width, int32_t pos,
                                          std::span<const std::byte> experts_blob,
                                          std::span<const std::byte> scores_blob,
                                          const char* what) {
  const std::vector<int64_t> offsets = router_candidate_offsets(shape);
  const auto n = size_t(offsets.back());
  if (experts_blob.size() != n * size_t(width) || scores_blob.size() != n * sizeof(float)) {
    fail("{} is damaged (router candidates of position {} hold {} and {} bytes, not {} and {})",
         what, pos, experts_blob.size(), scores_blob.size(), n * size_t(width), n * sizeof(float));
  }
  RouterCandidates out;
  out.pos = pos;
  out.experts.reserve(n);
  out.scores = read_f32s(scores_blob);
  for (int32_t l = 0; l < shape.n_layers(); ++l) {
    for (auto i = size_t(offsets[size_t(l)]); i < size_t(offsets[size_t(l) + 1]); ++i) {
      int32_t e = 0;
      for (int b = 0; b < width; ++b) {
        e |= int32_t(uint8_t(experts_blob[i * size_t(width) + size_t(b)])) << (8 * b);
      }
      if (e >= shape.n_experts[size_t(l)]) {
        fail("{} is damaged (router candidate expert {} at position {}, layer {})", what, e, pos,
             l);
      }
      out.experts.push_back(ExpertId(e));
    }
  }
  return out;
}

}  // namespace moescope::storage
