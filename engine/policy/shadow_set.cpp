#include "engine/policy/shadow_set.h"

#include <algorithm>

#include "engine/common/error.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/prefetcher.h"

namespace moescope::policy {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<ShadowSpec> parse_shadow_specs(std::string_view list,
                                           std::string_view default_prefetcher) {
  std::vector<ShadowSpec> out;
  for (size_t start = 0; start <= list.size();) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string_view item = trim(list.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) fail("--compare '{}' has an empty entry", list);
    const size_t at = item.find('@');
    ShadowSpec spec;
    spec.policy = parse_policy_spec(trim(item.substr(0, at))).text;
    spec.prefetcher =
        std::string(at == std::string_view::npos ? default_prefetcher : trim(item.substr(at + 1)));
    if (spec.prefetcher.empty()) fail("--compare '{}' names no prefetcher after '@'", item);
    out.push_back(std::move(spec));
  }
  return out;
}

struct ShadowSet::Shadow {
  PolicySpec spec;
  std::string prefetcher;
  std::unique_ptr<CacheSimulator> sim;  // null for oracles
  // The router probe its prefetcher asks for, live or replayed.
  std::optional<RouterProbeRequest> probe;
};

struct ShadowSet::LoggedStep {
  struct Token {
    std::vector<ExpertId> experts;
    std::vector<float> weights, probs;
  };
  TokenPos first_token;
  int32_t n_tokens = 1;
  MoeLayerId layer;
  Phase phase = Phase::kDecode;
  std::vector<ExpertId> experts;
  std::vector<Token> routing;
  bool ended = false;
  int64_t compute_ns = -1;
};

ShadowSet::ShadowSet(ShadowSetup setup, const std::vector<ShadowSpec>& specs)
    : setup_(std::move(setup)), specs_(specs), record_(setup_.record) {
  setup_.shape.validate();
  const auto empty = std::make_shared<const AccessStream>();
  for (const ShadowSpec& s : specs_) {
    Shadow sh;
    sh.spec = parse_policy_spec(s.policy);
    // Built once even for an oracle, so that a bad spec fails before the run.
    auto sim = build(s, sh.spec.oracle ? empty : nullptr);
    sh.probe = sim->prefetcher()->inputs().router_probe;
    sh.prefetcher = sim->report().prefetcher;
    if (sh.spec.oracle) {
      record_ = true;
      record_supplies_ = record_supplies_ || sh.probe.has_value();
    } else {
      sh.sim = std::move(sim);
    }
    shadows_.push_back(std::move(sh));
  }
}

ShadowSet::~ShadowSet() = default;

std::unique_ptr<CacheSimulator> ShadowSet::build(const ShadowSpec& s,
                                                 std::shared_ptr<const AccessStream> future) const {
  const PolicySpec spec = parse_policy_spec(s.policy);
  CacheCapacity capacity =
      setup_.capacity && setup_.capacity->pool == spec.pool
          ? *setup_.capacity
          : make_capacity(spec.pool, setup_.budget, setup_.shape, setup_.allocator, setup_.history);
  auto policy = make_policy(spec, {std::move(future), setup_.history});
  auto prefetcher = make_prefetcher(s.prefetcher, {setup_.history});
  return std::make_unique<CacheSimulator>(setup_.shape, std::move(capacity), std::move(policy),
                                          std::move(prefetcher), setup_.timing, spec.text);
}

void ShadowSet::begin_step(const StepInput& in) {
  for (Shadow& sh : shadows_)
    if (sh.sim) sh.sim->begin_step(in);
  if (record_) log_begin(in);
}

void ShadowSet::end_step(int64_t compute_ns) {
  for (Shadow& sh : shadows_)
    if (sh.sim) sh.sim->end_step(compute_ns);
  if (record_ && !log_.empty()) {
    log_.back().ended = true;
    log_.back().compute_ns = compute_ns;
  }
}

void ShadowSet::log_begin(const StepInput& in) {
  LoggedStep st;
  st.first_token = in.first_token;
  st.n_tokens = in.n_tokens;
  st.layer = in.layer;
  st.phase = in.phase;
  st.experts.assign(in.experts.begin(), in.experts.end());
  for (const TokenLayerRouting& r : in.routing) {
    st.routing.push_back({{r.experts.begin(), r.experts.end()},
                          {r.weights.begin(), r.weights.end()},
                          {r.probs.begin(), r.probs.end()}});
  }
  log_.push_back(std::move(st));
}

void ShadowSet::supply_probe(const RouterProbeRequest& probe, PrefetchTarget target,
                             std::span<const ExpertId> experts) {
  for (Shadow& sh : shadows_) {
    if (sh.sim && sh.probe == probe) sh.sim->prefetcher()->supply_probe(target, experts);
  }
  if (record_supplies_) supplies_[{probe, target}] = {experts.begin(), experts.end()};
}

std::vector<RouterProbeRequest> ShadowSet::router_probes() const {
  std::vector<RouterProbeRequest> out;
  for (const Shadow& sh : shadows_) {
    if (sh.probe && std::find(out.begin(), out.end(), *sh.probe) == out.end())
      out.push_back(*sh.probe);
  }
  return out;
}

AccessStream ShadowSet::recorded_stream() const {
  AccessStream s;
  for (const LoggedStep& st : log_) {
    const auto begin = int64_t(s.accesses.size());
    for (ExpertId e : st.experts) s.accesses.push_back({st.layer, e});
    s.steps.push_back(
        {st.first_token, st.n_tokens, st.layer, st.phase, begin, int64_t(s.accesses.size())});
  }
  return s;
}

std::vector<ShadowResult> ShadowSet::results() const {
  std::vector<ShadowResult> out;
  std::shared_ptr<const AccessStream> future;
  for (size_t i = 0; i < shadows_.size(); ++i) {
    const Shadow& sh = shadows_[i];
    if (sh.sim) {
      out.push_back({sh.spec.text, sh.prefetcher, false, sh.sim->report()});
      continue;
    }
    // Second pass: the oracle reads the recorded stream and is fed the recorded steps.
    if (!future) future = std::make_shared<const AccessStream>(recorded_stream());
    auto sim = build(specs_[i], future);
    if (sh.probe) {
      sim->prefetcher()->set_probe_source(
          [this, probe = *sh.probe](PrefetchTarget t, int32_t, std::vector<ExpertId>& experts) {
            const auto it = supplies_.find({probe, t});
            if (it != supplies_.end()) experts = it->second;
          });
    }
    std::vector<TokenLayerRouting> routing;
    for (const LoggedStep& st : log_) {
      routing.clear();
      for (const LoggedStep::Token& t : st.routing)
        routing.push_back({t.experts, t.weights, t.probs});
      sim->begin_step({st.first_token, st.n_tokens, st.layer, st.phase, st.experts, routing});
      if (st.ended) sim->end_step(st.compute_ns);
    }
    out.push_back({sh.spec.text, sh.prefetcher, true, sim->report()});
  }
  return out;
}

}  // namespace moescope::policy
