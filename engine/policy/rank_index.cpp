#include "engine/policy/rank_index.h"

namespace moescope::policy {

void RankIndex::reset(const MoeShape& shape) {
  shape_ = &shape;
  sets_.assign(size_t(shape.n_layers()), {});
  count_.assign(size_t(shape.n_layers()), 0);
  rank_.assign(size_t(shape.total_experts()), Rank{});
  present_.assign(size_t(shape.total_experts()), 0);
}

void RankIndex::set(ExpertKey k, Rank r) {
  const int64_t i = index(k);
  auto& set = sets_[k.layer.value];
  if (present_[i]) {
    set.erase({rank_[i].primary, rank_[i].secondary, k.expert.value});
  } else {
    present_[i] = 1;
    ++count_[k.layer.value];
  }
  rank_[i] = r;
  set.insert({r.primary, r.secondary, k.expert.value});
}

void RankIndex::erase(ExpertKey k) {
  const int64_t i = index(k);
  if (!present_[i]) return;
  sets_[k.layer.value].erase({rank_[i].primary, rank_[i].secondary, k.expert.value});
  present_[i] = 0;
  --count_[k.layer.value];
}

std::optional<ExpertKey> RankIndex::min_in_layer(MoeLayerId l,
                                                 std::span<const ExpertKey> pinned) const {
  for (const Item& item : sets_[l.value]) {
    const ExpertKey k{l, ExpertId(std::get<2>(item))};
    if (!is_pinned(pinned, k)) return k;
  }
  return std::nullopt;
}

}  // namespace moescope::policy
