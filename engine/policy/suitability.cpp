#include "engine/policy/suitability.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <utility>

#include "engine/common/error.h"
#include "engine/policy/access_stream.h"
#include "engine/policy/simulator.h"
#include "engine/policy/stack_curves.h"

namespace moescope::policy {

namespace {

// The window the verdict quotes: 16 tokens (a sentence or two) when the trace is that long.
constexpr int32_t kVerdictWindow = 16;

bool phase_counts(PhaseFilter f, int phase) {
  return phase_selected(f, Phase(phase));
}

// Hit rate with slots[l] in layer l over the selected phases, from per-layer stack curves.
double curve_rate(const CurveSet& set, const std::vector<int32_t>& slots, PhaseFilter f) {
  int64_t hits = 0, accesses = 0;
  for (size_t l = 0; l < set.per_layer.size(); ++l) {
    const HitCurve& h = set.per_layer[l];
    const size_t c = std::min(size_t(slots[l]), h.hits[0].size() - 1);
    for (int p = 0; p < 2; ++p) {
      if (!phase_counts(f, p)) continue;
      hits += h.hits[p][c];
      accesses += h.accesses[p];
    }
  }
  return accesses ? double(hits) / double(accesses) : std::nan("");
}

// Hit rate of one global pool of `slots` over the selected phases.
double global_rate(const CurveSet& set, int64_t slots, PhaseFilter f) {
  const HitCurve& h = set.global;
  const size_t c = std::min(size_t(slots), h.hits[0].size() - 1);
  int64_t hits = 0, accesses = 0;
  for (int p = 0; p < 2; ++p) {
    if (!phase_counts(f, p)) continue;
    hits += h.hits[p][c];
    accesses += h.accesses[p];
  }
  return accesses ? double(hits) / double(accesses) : std::nan("");
}

std::optional<int32_t> slots_to_reach(const CurveSet& set, int32_t max_experts, double target,
                                      int32_t n_layers, PhaseFilter f) {
  for (int32_t c = 0; c <= max_experts; ++c) {
    if (curve_rate(set, std::vector<int32_t>(size_t(n_layers), c), f) >= target) return c;
  }
  return std::nullopt;
}

std::string percent(double share) {
  return std::isnan(share) ? std::string("-") : fmt::format("{:.1f} %", 100 * share);
}

// "k" or "2k".
std::string times_k(int32_t multiple) {
  return multiple == 1 ? std::string("k") : fmt::format("{}k", multiple);
}

std::string ms(double ns) {
  return fmt::format("{:.3g} ms", ns / 1e6);
}

void explain(Suitability& s, const MoeShape& shape) {
  const BreakEven& b = s.break_even;
  const double h = b.hit_rate;
  const CapacityPoint& k1 = s.capacities[0];
  const CapacityPoint& k2 = s.capacities[1];
  const int w = s.window_index(kVerdictWindow) >= 0 ? s.window_index(kVerdictWindow) : 0;
  const int32_t m = s.windows[size_t(w)];
  const std::string link = s.link_name;

  if (h <= 0) {
    s.verdict = Verdict::kLinkNotBottleneck;
    s.verdict_text = fmt::format(
        "well suited on {}: loading every routed expert ({} per token) takes no longer than "
        "computing ({}), so even without a cache the loads can hide behind compute",
        link, ms(b.link_ns_per_token), ms(b.compute_ns_per_token));
  } else if (k1.lru >= h || k2.lru >= h) {
    const CapacityPoint& at = k1.lru >= h ? k1 : k2;
    s.verdict = Verdict::kWellSuited;
    s.verdict_text = fmt::format(
        "well suited on {}: a {} cache ({} slots per layer) with LRU reaches {} hits (SCH({}) "
        "{}, OPT {}, per-layer caches) above the {} break-even; SRP({}) = {:.2f}",
        link, times_k(at.multiple), at.slots[0], percent(at.lru), m,
        percent(at.sch[size_t(w)].per_layer_caches), percent(at.opt), percent(h), m,
        s.srp[size_t(w)].model);
  } else if (k2.opt >= h) {
    s.verdict = Verdict::kNeedsBetterPolicy;
    s.verdict_text = fmt::format(
        "suited only with a better policy or prefetcher on {}: at 2k ({} slots per layer) LRU "
        "reaches {} hits, below the {} break-even, while OPT (demand MIN) reaches {}",
        link, k2.slots[0], percent(k2.lru), percent(h), percent(k2.opt));
  } else if (s.lru_slots_to_break_even && *s.lru_slots_to_break_even < s.max_experts) {
    const int32_t c = *s.lru_slots_to_break_even;
    s.verdict = Verdict::kNeedsLargeCache;
    s.verdict_text = fmt::format(
        "poorly suited on {}: even OPT (demand MIN) stays below the {} break-even at 2k ({}); "
        "LRU needs {} of {} slots per layer ({:.0f} % of the experts)",
        link, percent(h), percent(k2.opt), c, s.max_experts, 100.0 * c / s.max_experts);
  } else {
    s.verdict = Verdict::kUnsuited;
    s.verdict_text = fmt::format(
        "unsuited on {}: only keeping (nearly) every expert resident reaches the {} break-even "
        "(OPT at 2k: {})",
        link, percent(h), percent(k2.opt));
  }

  std::string srp;
  for (size_t i = 0; i < s.windows.size(); ++i)
    srp += fmt::format("{}SRP({}) = {:.3f}", i ? ", " : "", s.windows[i], s.srp[i].model);
  s.reasons.push_back(fmt::format(
      "local routing consistency (model level): {} (floor 2k/(n+k) = {:.3f}, one fixed set 1)", srp,
      s.uniform_srp));
  for (const CapacityPoint& c : s.capacities) {
    s.reasons.push_back(fmt::format(
        "{} = {} slots per layer: LRU {}, SCH({}) {}, OPT {}; one pool of {}: LRU {}, SCH({}) {}, "
        "OPT {}",
        times_k(c.multiple), c.slots[0], percent(c.lru), m,
        percent(c.sch[size_t(w)].per_layer_caches), percent(c.opt), c.total_slots,
        percent(c.lru_global), m, percent(c.sch[size_t(w)].model), percent(c.opt_global)));
  }
  int32_t k_total = 0;
  for (int32_t k : shape.top_k) k_total += k;
  s.reasons.push_back(fmt::format(
      "break-even on {}: {} hits (loading all {} routed experts of a token takes {}, its compute "
      "{} {}; h* = 1 - C / L)",
      link, percent(h), k_total, ms(b.link_ns_per_token), ms(b.compute_ns_per_token),
      compute_origin_name(b.compute_origin)));
  auto slots_text = [&](const std::optional<int32_t>& c) {
    return c ? fmt::format("{} slots per layer", *c) : std::string("never");
  };
  s.reasons.push_back(fmt::format("smallest cache reaching break-even: LRU {}, OPT {} (of {})",
                                  slots_text(s.lru_slots_to_break_even),
                                  slots_text(s.opt_slots_to_break_even), s.max_experts));
}

}  // namespace

const char* compute_origin_name(ComputeOrigin origin) {
  switch (origin) {
    case ComputeOrigin::kGiven:
      return "given";
    case ComputeOrigin::kMeasured:
      return "measured";
    case ComputeOrigin::kAssumed:
      return "assumed";
  }
  return "?";
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kLinkNotBottleneck:
      return "link not the bottleneck";
    case Verdict::kWellSuited:
      return "well suited";
    case Verdict::kNeedsBetterPolicy:
      return "needs a better policy";
    case Verdict::kNeedsLargeCache:
      return "poorly suited";
    case Verdict::kUnsuited:
      return "unsuited";
  }
  return "?";
}

int Suitability::window_index(int32_t m) const {
  const auto it = std::find(windows.begin(), windows.end(), m);
  return it == windows.end() ? -1 : int(it - windows.begin());
}

BreakEven break_even(const MoeShape& shape, const LinkModel& link,
                     const std::vector<int64_t>& layer_compute_ns, ComputeOrigin origin) {
  if (layer_compute_ns.size() != size_t(shape.n_layers())) {
    fail("break-even needs the compute of all {} MoE layers, got {}", shape.n_layers(),
         layer_compute_ns.size());
  }
  BreakEven b;
  b.compute_ns = layer_compute_ns;
  b.compute_origin = origin;
  for (int32_t l = 0; l < shape.n_layers(); ++l) {
    const int64_t c = layer_compute_ns[size_t(l)];
    if (c < 0) fail("MoE layer {} has a negative compute time ({} ns)", l, c);
    const int64_t tau = link.transfer_ns(shape.expert_bytes[size_t(l)]);
    const double load = double(shape.top_k[size_t(l)]) * double(tau);
    b.transfer_ns.push_back(tau);
    b.link_ns_per_token += load;
    b.compute_ns_per_token += double(c);
    b.per_layer.push_back(load > 0 ? std::max(0.0, 1.0 - double(c) / load) : 0.0);
  }
  b.hit_rate = b.link_ns_per_token > 0
                   ? std::max(0.0, 1.0 - b.compute_ns_per_token / b.link_ns_per_token)
                   : 0.0;
  return b;
}

double demand_slowdown(const BreakEven& b, double hit_rate) {
  const double c = b.compute_ns_per_token;
  return c > 0 ? (c + (1 - hit_rate) * b.link_ns_per_token) / c : std::nan("");
}

double overlapped_slowdown(const BreakEven& b, double hit_rate) {
  const double c = b.compute_ns_per_token;
  return c > 0 ? std::max(c, (1 - hit_rate) * b.link_ns_per_token) / c : std::nan("");
}

std::vector<int64_t> measured_decode_compute(const RoutingTrace& trace) {
  const int32_t n = trace.n_layers();
  if (trace.compute_ns.size() != size_t(trace.n_tokens()) * size_t(n) || n == 0) return {};
  std::vector<double> sum(size_t(n), 0.0);
  int64_t count = 0;
  for (int64_t t = 0; t < trace.n_tokens(); ++t) {
    if (trace.phase[size_t(t)] != Phase::kDecode) continue;
    const int64_t* row = &trace.compute_ns[size_t(t) * size_t(n)];
    if (!std::all_of(row, row + n, [](int64_t v) { return v > 0; })) continue;
    for (int32_t l = 0; l < n; ++l) sum[size_t(l)] += double(row[l]);
    ++count;
  }
  if (count == 0) return {};
  std::vector<int64_t> out;
  for (double s : sum) out.push_back(std::llround(s / double(count)));
  return out;
}

Suitability offloading_suitability(const RoutingTrace& trace, const SuitabilityOptions& options) {
  const MoeShape& shape = trace.shape;
  const int32_t n_layers = trace.n_layers();
  if (n_layers == 0) fail("the trace has no MoE layer");
  Suitability s;
  for (int64_t t = 0; t < trace.n_tokens(); ++t)
    s.tokens += phase_selected(options.filter, trace.phase[size_t(t)]);
  if (s.tokens == 0)
    fail("the trace has no tokens of the selected phase for a suitability analysis");
  s.link_name = options.link.name;

  // Local consistency.
  for (int32_t m : options.windows) {
    if (m < 1) fail("SRP and SCH need a window of at least one token, not {}", m);
    if (m > s.tokens || s.window_index(m) >= 0) continue;
    s.windows.push_back(m);
  }
  if (s.windows.empty()) s.windows.push_back(int32_t(std::min<int64_t>(s.tokens, 4)));
  for (int32_t l = 0; l < n_layers; ++l)
    s.max_experts = std::max(s.max_experts, shape.n_experts[size_t(l)]);
  s.uniform_srp = srp_floor(shape);

  std::vector<std::vector<int32_t>> slots;  // [capacity][layer]
  for (int32_t multiple : {1, 2}) {
    CapacityPoint p;
    p.multiple = multiple;
    for (int32_t l = 0; l < n_layers; ++l) {
      p.slots.push_back(std::min(multiple * shape.top_k[size_t(l)], shape.n_experts[size_t(l)]));
    }
    for (int32_t c : p.slots) p.total_slots += c;
    slots.push_back(p.slots);
    s.capacities.push_back(std::move(p));
  }
  // The parts read the trace and nothing else, so they run on two threads (about half of the
  // work each): SCH at both capacities (one pass per window) and the best-k coverage on a second
  // thread; SRP and the LRU/OPT curves on this one.
  auto second = std::async(std::launch::async, [&] {
    std::vector<std::vector<SchScore>> sch;  // [window][capacity]
    std::vector<WindowCoverage> coverage;    // [window]
    for (int32_t m : s.windows) {
      sch.push_back(segment_cache_hit_rates(trace, m, slots, options.filter));
      coverage.push_back(best_k_window_coverage(trace, m, options.filter));
    }
    return std::make_pair(std::move(sch), std::move(coverage));
  });
  for (int32_t m : s.windows)
    s.srp.push_back(segment_routing_performance(trace, m, options.filter));
  // Hit rates, tokens one by one (the stream a decode-only run would see).
  CurveSet lru, opt;
  {
    const AccessStream stream = AccessStream::build(trace, {1});
    lru = lru_curves(stream, shape);
    opt = opt_curves(stream, shape);
  }
  for (CapacityPoint& p : s.capacities) {
    p.lru = curve_rate(lru, p.slots, options.filter);
    p.opt = curve_rate(opt, p.slots, options.filter);
    p.lru_global = global_rate(lru, p.total_slots, options.filter);
    p.opt_global = global_rate(opt, p.total_slots, options.filter);
  }
  auto [sch, coverage] = second.get();
  s.coverage = std::move(coverage);
  for (std::vector<SchScore>& at_m : sch) {
    for (size_t c = 0; c < at_m.size(); ++c) s.capacities[c].sch.push_back(std::move(at_m[c]));
  }

  // Break-even.
  std::vector<int64_t> compute = options.layer_compute_ns;
  ComputeOrigin origin = options.compute_origin;
  if (compute.empty()) {
    compute = measured_decode_compute(trace);
    origin = ComputeOrigin::kMeasured;
  }
  if (compute.empty()) {
    compute.assign(size_t(n_layers), TimingModel{}.decode_layer_ns);
    origin = ComputeOrigin::kAssumed;
  }
  s.break_even = break_even(shape, options.link, compute, origin);
  s.lru_slots_to_break_even =
      slots_to_reach(lru, s.max_experts, s.break_even.hit_rate, n_layers, options.filter);
  s.opt_slots_to_break_even =
      slots_to_reach(opt, s.max_experts, s.break_even.hit_rate, n_layers, options.filter);
  explain(s, shape);
  return s;
}

}  // namespace moescope::policy
