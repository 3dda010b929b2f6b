#include "engine/policy/prefetch_gate.h"

#include <algorithm>

namespace moescope::policy {

namespace {

// What moving `bytes` costs on the link: its time, or the bytes on an unlimited link.
double link_cost(const LinkModel& link, uint64_t bytes) {
  return link.unlimited() ? double(bytes) : double(link.transfer_ns(bytes));
}

// Priors: a prediction nobody has scored yet is a coin toss (so it is not issued until it proves
// better); one victim in four comes back.
constexpr double kHitPriorYes = 1, kHitPriorAll = 2;
constexpr double kRegretPriorYes = 1, kRegretPriorAll = 4;
// Weight of the newest decode step in the layer compute average.
constexpr int64_t kComputeAverageSteps = 8;

}  // namespace

bool prefetch_pays(const LinkModel& link, const PrefetchBet& bet) {
  const double t = link_cost(link, bet.bytes);
  const double saving = bet.p_hit * t;
  double cost = (1 - bet.p_hit) * t;
  if (bet.victim_bytes > 0) cost += bet.victim_regret * link_cost(link, bet.victim_bytes);
  return saving > cost;
}

PrefetchGate::PrefetchGate(const MoeShape& shape, LinkModel link, int64_t layer_ns_prior)
    : link_(std::move(link)),
      rank_hits_(size_t(shape.n_layers())),
      regret_(size_t(shape.n_layers())),
      victims_(size_t(shape.n_layers())),
      layer_ns_(std::max<int64_t>(0, layer_ns_prior)) {
  for (int32_t l = 0; l < shape.n_layers(); ++l)
    rank_hits_[size_t(l)].resize(size_t(shape.n_experts[size_t(l)]));
}

void PrefetchGate::score(MoeLayerId target, int32_t rank, bool routed) {
  auto& ranks = rank_hits_[size_t(target.value)];
  if (rank < 0 || size_t(rank) >= ranks.size()) return;
  Tally& t = ranks[size_t(rank)];
  ++t.all;
  if (routed) ++t.yes;
}

void PrefetchGate::on_decode_compute(int64_t compute_ns) {
  layer_ns_ += (std::max<int64_t>(0, compute_ns) - layer_ns_) / kComputeAverageSteps;
}

void PrefetchGate::on_victim(ExpertKey victim, int64_t position) {
  victims_[size_t(victim.layer.value)].push_back({victim.expert.value, position});
}

void PrefetchGate::on_step(MoeLayerId layer, int64_t position, std::span<const ExpertKey> used) {
  auto& victims = victims_[size_t(layer.value)];
  size_t keep = 0;
  for (const Victim& v : victims) {
    if (v.position >= position) {
      victims[keep++] = v;
      continue;
    }
    Tally& t = regret_[size_t(layer.value)];
    ++t.all;
    if (std::any_of(used.begin(), used.end(),
                    [&](const ExpertKey& k) { return k.expert.value == v.expert; }))
      ++t.yes;
  }
  victims.resize(keep);
}

double PrefetchGate::hit_probability(MoeLayerId target, int32_t rank) const {
  const auto& ranks = rank_hits_[size_t(target.value)];
  if (rank < 0 || size_t(rank) >= ranks.size()) return 0;
  const Tally& t = ranks[size_t(rank)];
  return (double(t.yes) + kHitPriorYes) / (double(t.all) + kHitPriorAll);
}

double PrefetchGate::victim_regret(MoeLayerId layer) const {
  const Tally& t = regret_[size_t(layer.value)];
  return (double(t.yes) + kRegretPriorYes) / (double(t.all) + kRegretPriorAll);
}

}  // namespace moescope::policy
