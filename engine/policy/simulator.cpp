#include "engine/policy/simulator.h"

#include <algorithm>
#include <stdexcept>

#include "engine/common/error.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/step_outcomes.h"

namespace moescope::policy {

namespace {
// A load id carries its key's dense index in the low bits, so that a started load finds its
// entry without a map. MoeShape caps the key count at 2^24.
constexpr int kKeyBits = 24;
constexpr uint64_t kKeyMask = (uint64_t{1} << kKeyBits) - 1;
constexpr int64_t kMaxTokens = int64_t{1} << 26;
}  // namespace

CacheSimulator::CacheSimulator(MoeShape shape, CacheCapacity capacity,
                               std::unique_ptr<CachePolicy> policy,
                               std::unique_ptr<Prefetcher> prefetcher, TimingModel timing,
                               std::string policy_name, std::string prefetcher_name)
    : shape_(std::move(shape)),
      capacity_(std::move(capacity)),
      policy_(std::move(policy)),
      prefetcher_(std::move(prefetcher)),
      timing_(std::move(timing)),
      loader_(timing_.link) {
  shape_.validate();
  capacity_.validate(shape_);
  if (!policy_) fail("the cache simulator needs a policy");
  policy_->reset(shape_, capacity_);
  if (prefetcher_) prefetcher_->reset(shape_);
  if (prefetcher_ && prefetcher_->cost_gated())
    gate_ = std::make_unique<PrefetchGate>(shape_, timing_.link, timing_.decode_layer_ns);
  entries_.assign(size_t(shape_.total_experts()), Entry{});
  used_.assign(size_t(capacity_.n_partitions(shape_)), 0);
  report_.policy = std::move(policy_name);
  report_.prefetcher = prefetcher_name.empty() && prefetcher_
                           ? prefetcher_->name() + (prefetcher_->cost_gated() ? "+cost" : "")
                           : std::move(prefetcher_name);
  for (auto& layers : report_.layer) layers.assign(size_t(shape_.n_layers()), CacheCounters{});
}

void CacheSimulator::add(int64_t CacheCounters::*field, MoeLayerId layer, int64_t amount) {
  const int p = int(phase_);
  report_.phase[p].*field += amount;
  report_.layer[p][size_t(layer.value)].*field += amount;
  report_.token[size_t(token_)].*field += amount;
}

uint64_t CacheSimulator::new_load_id(ExpertKey key) {
  return (++load_counter_ << kKeyBits) | uint64_t(shape_.key_index(key));
}

void CacheSimulator::begin_step(const StepInput& in) {
  if (open_) fail("a cache step began before the previous one ended");
  const int32_t L = shape_.n_layers();
  if (in.layer.value < 0 || in.layer.value >= L) fail("step for layer {} of {}", in.layer.value, L);
  if (in.first_token.value < 0 || in.n_tokens < 1 ||
      int64_t(in.first_token.value) + in.n_tokens > kMaxTokens)
    fail("step for tokens [{}, +{}) is out of range", in.first_token.value, in.n_tokens);
  if (in.routing.size() != size_t(in.n_tokens))
    fail("step for {} tokens came with {} routings", in.n_tokens, in.routing.size());
  phase_ = in.phase;
  token_ = in.first_token.value;
  layer_ = in.layer;
  n_tokens_ = in.n_tokens;
  if (report_.token.size() <= size_t(token_)) report_.token.resize(size_t(token_) + 1);
  step_keys_.clear();
  for (ExpertId e : in.experts) {
    const ExpertKey key{in.layer, e};
    if (!shape_.contains(key)) fail("layer {} has no expert {}", in.layer.value, e.value);
    if (std::find(step_keys_.begin(), step_keys_.end(), key) != step_keys_.end())
      fail("step lists expert {} of layer {} twice", e.value, in.layer.value);
    step_keys_.push_back(key);
  }
  step_started_.clear();
  waits_.clear();
  open_ = true;
  if (gate_) gate_->on_step(in.layer, position(), step_keys_);

  policy_->on_step({in.first_token, in.n_tokens, in.layer, in.phase, seq_});
  for (int32_t i = 0; i < in.n_tokens; ++i)
    policy_->on_router(TokenPos(in.first_token.value + i), in.layer, in.routing[size_t(i)]);
  score_predictions(in);

  for (size_t i = 0; i < step_keys_.size(); ++i) {
    const ExpertKey key = step_keys_[i];
    // The step's experts not yet accessed stay: evicting one would only make it a second miss.
    const std::span<const ExpertKey> later = std::span(step_keys_).subspan(i + 1);
    Entry& en = entries_[size_t(shape_.key_index(key))];
    const bool hit = en.resident;
    policy_->on_access(key, seq_++, hit);
    add(&CacheCounters::accesses, key.layer, 1);
    if (hit) {
      add(&CacheCounters::hits, key.layer, 1);
      if (en.prefetched_unused) {
        en.prefetched_unused = false;
        add(&CacheCounters::prefetch_used, key.layer, 1);
        if (en.ready_ns == kPending || en.ready_ns > now_) {
          add(&CacheCounters::prefetch_late, key.layer, 1);
          if (en.ready_ns == kPending) loader_.promote(en.load_id);
        }
      }
      if (en.ready_ns == kPending || en.ready_ns > now_) waits_.push_back(en.load_id);
      continue;
    }
    const uint64_t bytes = shape_.bytes(key.layer);
    add(&CacheCounters::misses, key.layer, 1);
    add(&CacheCounters::bytes_loaded, key.layer, int64_t(bytes));
    const uint64_t id = new_load_id(key);
    const bool admitted = try_insert(key, later, false);
    if (admitted)
      en = Entry{true, false, id, kPending};
    else
      add(&CacheCounters::bypasses, key.layer, 1);
    loader_.enqueue_demand(id, bytes, now_);
    waits_.push_back(id);
    if (listener_) listener_->on_load(key, false, admitted);
  }

  if (prefetcher_) {
    for (int32_t i = 0; i < in.n_tokens; ++i)
      prefetcher_->observe(TokenPos(in.first_token.value + i), in.layer, in.routing[size_t(i)]);
    if (in.phase == Phase::kDecode && in.n_tokens == 1) issue_prefetches(in);
  }
}

void CacheSimulator::end_step(int64_t compute_ns) {
  if (!open_) fail("a cache step ended that had not begun");
  open_ = false;
  int64_t ready = now_;
  for (uint64_t id : waits_) ready = std::max(ready, completion(id));
  add(&CacheCounters::stall_ns, layer_, ready - now_);
  int64_t compute = compute_ns;
  if (compute < 0)
    compute = phase_ == Phase::kDecode ? timing_.decode_layer_ns
                                       : timing_.prefill_layer_ns_per_token * n_tokens_;
  if (gate_ && phase_ == Phase::kDecode) gate_->on_decode_compute(compute);
  now_ = ready + compute;
  loader_.advance_to(now_);
  take_started();
  report_.end_ns = now_;
}

bool CacheSimulator::try_insert(ExpertKey key, std::span<const ExpertKey> pinned, bool prefetch) {
  const int32_t part = capacity_.partition_of(key.layer);
  const uint64_t w = capacity_.weight(shape_, key.layer);
  const uint64_t cap = capacity_.partition_capacity(part);
  if (w > cap) return false;
  if (!prefetch && !policy_->admit(key, false)) return false;
  const std::optional<MoeLayerId> scope =
      capacity_.pool == PoolKind::kPerLayer ? std::optional<MoeLayerId>(key.layer) : std::nullopt;
  while (used_[size_t(part)] + w > cap) {
    const std::optional<ExpertKey> victim = policy_->choose_victim({key, scope, pinned, prefetch});
    if (!victim) return false;
    if (!shape_.contains(*victim) || !resident(*victim) || *victim == key ||
        capacity_.partition_of(victim->layer) != part || is_pinned(pinned, *victim))
      throw std::logic_error("the policy chose a victim that is not an evictable resident entry");
    evict(*victim);
  }
  policy_->on_insert(key, prefetch);
  used_[size_t(part)] += w;
  return true;
}

void CacheSimulator::evict(ExpertKey victim) {
  Entry& en = entries_[size_t(shape_.key_index(victim))];
  policy_->on_evict(victim);
  used_[size_t(capacity_.partition_of(victim.layer))] -= capacity_.weight(shape_, victim.layer);
  add(&CacheCounters::evictions, victim.layer, 1);
  if (en.prefetched_unused) {
    add(&CacheCounters::prefetch_wasted, victim.layer, 1);
    add(&CacheCounters::prefetch_wasted_bytes, victim.layer, int64_t(shape_.bytes(victim.layer)));
    // A prefetch nobody waits for leaves the queue if it has not started.
    if (en.ready_ns == kPending) loader_.cancel(en.load_id);
  }
  en.resident = false;
  en.prefetched_unused = false;
  if (gate_ && evicting_for_prefetch_) gate_->on_victim(victim, position());
  if (listener_) listener_->on_evict(victim);
}

void CacheSimulator::issue_prefetches(const StepInput& in) {
  const PrefetchTarget target =
      advance(in.first_token, in.layer, prefetcher_->distance(), shape_.n_layers());
  prefetcher_->predict(target, predicted_);
  std::vector<ExpertId> unique;
  for (ExpertId e : predicted_) {
    if (!shape_.contains({target.layer, e}))
      fail("the prefetcher predicted expert {} of layer {}, which does not exist", e.value,
           target.layer.value);
    if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(e);
  }
  const int64_t order = ++target_order_;
  // A prefetch never evicts an expert needed sooner: the running layer's, those of earlier
  // predictions whose targets come first, nor any other expert this prediction names (in rank
  // order, so a lower-ranked one never displaces one ranked above it).
  prefetch_pinned_ = step_keys_;
  for (const Prediction& p : pending_)
    for (ExpertId e : p.experts) prefetch_pinned_.push_back({p.target.layer, e});
  for (ExpertId e : unique) prefetch_pinned_.push_back({target.layer, e});
  std::vector<uint8_t> candidate(unique.size());
  for (size_t rank = 0; rank < unique.size(); ++rank)
    candidate[rank] = !entries_[size_t(shape_.key_index({target.layer, unique[rank]}))].resident;
  for (size_t rank = 0; rank < unique.size(); ++rank) {
    const ExpertKey key{target.layer, unique[rank]};
    Entry& en = entries_[size_t(shape_.key_index(key))];
    if (en.resident || !policy_->admit(key, true)) continue;
    bool stop = false;
    if (gate_ && !gate_allows(key, int32_t(rank), order, stop)) {
      if (stop) break;
      continue;
    }
    const uint64_t id = new_load_id(key);
    evicting_for_prefetch_ = true;
    const bool inserted = try_insert(key, prefetch_pinned_, true);
    evicting_for_prefetch_ = false;
    if (!inserted) continue;
    en = Entry{true, true, id, kPending};
    const uint64_t bytes = shape_.bytes(key.layer);
    add(&CacheCounters::prefetch_issued, key.layer, 1);
    add(&CacheCounters::prefetch_bytes, key.layer, int64_t(bytes));
    add(&CacheCounters::bytes_loaded, key.layer, int64_t(bytes));
    loader_.enqueue_prefetch(id, bytes, now_, order);
    if (listener_) listener_->on_load(key, true, true);
  }
  pending_.push_back({target, std::move(unique), std::move(candidate)});
}

bool CacheSimulator::gate_allows(ExpertKey key, int32_t rank, int64_t order, bool& stop) {
  // 1. Time: the target layer starts once this step's demand loads are in and d layers computed.
  const uint64_t bytes = shape_.bytes(key.layer);
  const int64_t needed =
      loader_.demand_completion(now_) + int64_t(prefetcher_->distance()) * gate_->layer_ns();
  if (loader_.prefetch_completion(bytes, now_, order) > needed) {
    stop = true;
    return false;
  }
  // 2. Saving against cost, with the eviction it forces.
  PrefetchBet bet{bytes, gate_->hit_probability(key.layer, rank), 0, 0};
  const int32_t part = capacity_.partition_of(key.layer);
  if (used_[size_t(part)] + capacity_.weight(shape_, key.layer) >
      capacity_.partition_capacity(part)) {
    bet.victim_bytes = bytes;
    bet.victim_regret = gate_->victim_regret(key.layer);
  }
  return prefetch_pays(gate_->link(), bet);
}

void CacheSimulator::score_predictions(const StepInput& in) {
  if (pending_.empty()) return;
  const PrefetchTarget here{in.first_token, in.layer};
  const int32_t L = shape_.n_layers();
  auto position = [L](const PrefetchTarget& t) {
    return int64_t(t.token.value) * L + t.layer.value;
  };
  size_t keep = 0;
  for (size_t i = 0; i < pending_.size(); ++i) {
    Prediction& p = pending_[i];
    if (p.target == here && in.n_tokens == 1) {
      const auto routed = in.experts;
      int64_t correct = 0;
      for (ExpertId e : p.experts)
        if (std::find(routed.begin(), routed.end(), e) != routed.end()) ++correct;
      if (gate_) {
        for (size_t r = 0; r < p.experts.size(); ++r) {
          if (p.candidate[r] == 0) continue;
          gate_->score(in.layer, int32_t(r),
                       std::find(routed.begin(), routed.end(), p.experts[r]) != routed.end());
        }
      }
      add(&CacheCounters::prefetch_predicted, in.layer, int64_t(p.experts.size()));
      add(&CacheCounters::prefetch_correct, in.layer, correct);
      add(&CacheCounters::prefetch_routed, in.layer, int64_t(routed.size()));
    } else if (position(p.target) > position(here)) {
      // Not onto itself: a self-move would empty the kept prediction.
      if (keep != i) pending_[keep] = std::move(p);
      ++keep;
    }
  }
  pending_.resize(keep);
}

int64_t CacheSimulator::completion(uint64_t load_id) {
  const Entry& en = entries_[size_t(load_id & kKeyMask)];
  if (en.load_id == load_id && en.ready_ns != kPending) return en.ready_ns;
  for (const auto& s : step_started_)
    if (s.id == load_id) return s.end_ns;
  const int64_t end = loader_.complete(load_id);
  take_started();
  return end;
}

void CacheSimulator::take_started() {
  loader_.take_started(started_);
  for (const auto& s : started_) {
    Entry& en = entries_[size_t(s.id & kKeyMask)];
    if (en.load_id == s.id) en.ready_ns = s.end_ns;
    step_started_.push_back(s);
  }
}

const CacheReport& replay(const RoutingTrace& trace, const AccessStream& stream,
                          CacheSimulator& sim) {
  return replay_with_outcomes(trace, stream, sim, {});
}

CacheReport replay(const RoutingTrace& trace, const ReplaySetup& setup) {
  const PolicySpec spec = parse_policy_spec(setup.policy);
  auto stream = std::make_shared<AccessStream>(AccessStream::build(trace, setup.stream));
  const RoutingTrace* fit = setup.history ? setup.history : &trace;
  CacheCapacity capacity =
      make_capacity(spec.pool, setup.budget, trace.shape, setup.allocator, fit);
  auto policy = make_policy(spec, {stream, setup.history});
  auto prefetcher = make_prefetcher(setup.prefetcher, {setup.history});
  CacheSimulator sim(trace.shape, std::move(capacity), std::move(policy), std::move(prefetcher),
                     setup.timing, spec.text);
  return replay(trace, *stream, sim);
}

}  // namespace moescope::policy
