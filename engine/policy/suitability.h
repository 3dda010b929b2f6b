#pragma once
// Offloading suitability: is a model (on a recorded text) suited to expert offloading, and at
// which cache size? One analysis of a RoutingTrace that the CLI (routing-stats), the report and
// the desktop app all show:
//   - local routing consistency SRP(m) as Liang et al., "Not All Models Suit Expert Offloading"
//     define it (engine/policy/local_consistency.h), per layer and for the model,
//   - hit rates at C = k and 2k slots per layer (2k: the paper's knee): SCH(m), LRU and OPT
//     (demand-paging MIN), with per-layer caches and with one global pool of the same total,
//   - the break-even hit rate h* on a link, and the smallest per-layer cache reaching it,
//   - a verdict with its reasons. Definitions and thresholds: docs/suitability.md.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/policy/link_model.h"
#include "engine/policy/local_consistency.h"
#include "engine/policy/routing_stats.h"
#include "engine/policy/routing_trace.h"

namespace moescope::policy {

// How the per-layer compute was obtained.
enum class ComputeOrigin : uint8_t { kGiven, kMeasured, kAssumed };
const char* compute_origin_name(ComputeOrigin origin);

struct SuitabilityOptions {
  LinkModel link = LinkModel::preset("nvme");
  // [n_layers] compute of one token at each MoE layer (the block's time up to the next MoE
  // step). Empty: the mean over the trace's decode tokens that carry compute_ns, else the
  // simulator's placeholder (TimingModel::decode_layer_ns), flagged as assumed.
  std::vector<int64_t> layer_compute_ns;
  ComputeOrigin compute_origin = ComputeOrigin::kGiven;  // of a given layer_compute_ns
  // m of SRP and SCH; those longer than the trace are skipped.
  std::vector<int32_t> windows = {4, 16, 64, 256};
  PhaseFilter filter = PhaseFilter::kAll;  // whose accesses count (tokens one by one)
};

// Break-even hit rate h* (docs/suitability.md). Per token, with hit rate h, the link is busy
//   T_link(h) = (1 - h) * L,   L = sum_l k_l * tau_l,   tau_l = link.transfer_ns(expert_bytes_l)
// and compute takes C = sum_l c_l. With loads overlapping compute (one loader, demand before
// prefetch) an offloaded token takes max(C, T_link(h)); a fully resident one takes C. So h* is the
// smallest hit rate at which offloading with a cache is no slower than computing without it:
//   h* = max(0, 1 - C / L)            (0 when L = 0: an unlimited link)
// At h*, a demand-only cache (no overlap: C + T_link) is exactly 2x slower than resident.
struct BreakEven {
  std::vector<int64_t> transfer_ns;  // [n_layers] tau_l: one expert over the link
  std::vector<int64_t> compute_ns;   // [n_layers] c_l
  ComputeOrigin compute_origin = ComputeOrigin::kAssumed;
  double link_ns_per_token = 0;     // L: every routed expert loaded
  double compute_ns_per_token = 0;  // C
  double hit_rate = 0;              // h*
  std::vector<double> per_layer;    // [n_layers] max(0, 1 - c_l / (k_l tau_l))
};
BreakEven break_even(const MoeShape& shape, const LinkModel& link,
                     const std::vector<int64_t>& layer_compute_ns, ComputeOrigin origin);
// Decode time per token relative to resident at hit rate h: demand-only loads (C + T_link) / C,
// and fully overlapped max(C, T_link) / C.
double demand_slowdown(const BreakEven& b, double hit_rate);
double overlapped_slowdown(const BreakEven& b, double hit_rate);

// Hit rates with `slots` (k_l or 2 k_l, capped at n_l) in every layer, overall over the selected
// phases' accesses; and with one global pool of total_slots = sum_l slots[l] (the paper's
// model-level cache). OPT is demand-paging MIN: it bounds every demand policy (LRU, SCH) of the
// same pool kind and size, never a prefetching run.
struct CapacityPoint {
  int32_t multiple = 1;        // of k
  std::vector<int32_t> slots;  // [n_layers]
  int64_t total_slots = 0;     // sum of slots
  double lru = 0;              // per-layer caches: LRU (stack distances, = the simulator's LRU)
  double opt = 0;              // per-layer caches: OPT (the OPT stack = simulated `opt`)
  double lru_global = 0;       // one pool of total_slots
  double opt_global = 0;
  std::vector<SchScore> sch;  // [windows]: per layer, per-layer caches overall, global pool
};

enum class Verdict : uint8_t {
  kLinkNotBottleneck,  // h* = 0: the link loads every routed expert faster than compute
  kWellSuited,         // LRU reaches h* with at most 2k slots per layer
  kNeedsBetterPolicy,  // LRU misses h* at 2k, OPT reaches it: a smarter policy/prefetcher can
  kNeedsLargeCache,    // nothing reaches h* at 2k; LRU does with more slots (but fewer than n)
  kUnsuited,           // only (nearly) all experts resident reach h*: offloading does not pay
};
const char* verdict_name(Verdict v);  // "well suited", ...

struct Suitability {
  int64_t tokens = 0;             // selected tokens
  std::vector<int32_t> windows;  // the m evaluated (requested ones that fit the trace)
  std::vector<SrpScore> srp;     // [windows] the paper's SRP, per layer and for the model
  std::vector<WindowCoverage> coverage;  // [windows] best-k window coverage (not the paper's)
  // SRP's floor srp_floor(shape) = 2 sum k / (sum n + sum k): the F1 of predicting every expert,
  // which uniform routing approaches as m grows.
  double uniform_srp = 0;
  std::vector<CapacityPoint> capacities;  // C = k, 2k
  std::string link_name;
  BreakEven break_even;
  // Smallest uniform per-layer slots (capped at n_l) whose hit rate reaches h*; nullopt if none.
  std::optional<int32_t> lru_slots_to_break_even;
  std::optional<int32_t> opt_slots_to_break_even;
  int32_t max_experts = 0;  // max_l n_l
  Verdict verdict = Verdict::kUnsuited;
  std::string verdict_text;          // one line, English (the GUI words its own, translated)
  std::vector<std::string> reasons;  // the numbers behind it, English

  // Index of window m in `windows`, or -1.
  int window_index(int32_t m) const;
};

// Throws moescope::Error when the trace has no selected tokens or options do not fit the shape.
Suitability offloading_suitability(const RoutingTrace& trace,
                                   const SuitabilityOptions& options = {});

// Mean decode compute per MoE layer of the trace (tokens whose compute_ns are all > 0); empty
// when it has none.
std::vector<int64_t> measured_decode_compute(const RoutingTrace& trace);

}  // namespace moescope::policy
