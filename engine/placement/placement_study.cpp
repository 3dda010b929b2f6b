#include "engine/placement/placement_study.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "engine/common/error.h"
#include "engine/placement/affinity.h"
#include "engine/placement/contiguous.h"
#include "engine/placement/engine_exports.h"
#include "engine/placement/eplb.h"
#include "engine/placement/joint.h"

namespace moescope::placement {
namespace {

std::vector<Algorithm> all_algorithms() {
  return {Algorithm::kContiguous, Algorithm::kEplb, Algorithm::kAffinity, Algorithm::kJoint};
}

StudyEntry fit_one(Algorithm a, const ExpertStatistics& stats, const StudyOptions& o, double beta) {
  StudyEntry e;
  switch (a) {
    case Algorithm::kContiguous:
      e.placement = contiguous_placement(stats.n_experts, o.topology, o.redundant);
      e.note = "SGLang/vLLM default";
      break;
    case Algorithm::kEplb: {
      e.placement = eplb_placement(stats.load, o.topology, o.redundant, o.groups);
      const bool hier = o.groups && *o.groups % o.topology.nodes == 0;
      e.note = fmt::format("DeepSeek EPLB, {}, {} redundant", hier ? "hierarchical" : "global",
                           o.redundant);
      break;
    }
    case Algorithm::kAffinity: {
      const AffinityResult r = affinity_placement(stats, o.topology);
      e.placement = r.placement;
      e.note = r.exact ? fmt::format("ExFlow, exact optimum on the fit tokens ({:.1f} % kept)",
                                     100 * r.colocated / r.total)
                       : fmt::format("ExFlow, search: {:.1f} % kept on the fit tokens, bound "
                                     "{:.1f} %",
                                     100 * r.colocated / r.total, 100 * r.upper_bound / r.total);
      break;
    }
    case Algorithm::kJoint: {
      const JointResult r = joint_placement(stats, o.topology, beta);
      e.placement = r.placement;
      e.note = fmt::format("load+traffic, beta {:.3g}: fit cost {:.4g} vs contiguous {:.4g}",
                           beta, r.cost, r.contiguous_cost);
      break;
    }
  }
  return e;
}

}  // namespace

const char* algorithm_name(Algorithm a) {
  switch (a) {
    case Algorithm::kContiguous: return "contiguous";
    case Algorithm::kEplb: return "eplb";
    case Algorithm::kAffinity: return "affinity";
    case Algorithm::kJoint: return "joint";
  }
  return "?";
}

std::vector<Algorithm> parse_algorithms(const std::string& text) {
  std::vector<Algorithm> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string name = text.substr(start, comma - start);
    if (name == "all") {
      for (Algorithm a : all_algorithms())
        if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    } else {
      bool found = false;
      for (Algorithm a : all_algorithms())
        if (name == algorithm_name(a)) {
          found = true;
          if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
        }
      if (!found)
        fail("--algo: unknown placement '{}' (contiguous, eplb, affinity, joint or all)", name);
    }
    start = comma + 1;
  }
  return out;
}

Study run_study(const StudyInput& input, const StudyOptions& options) {
  options.topology.validate();
  options.sim.validate();
  const int64_t n = input.routing.n_tokens();
  if (n == 0) fail("{} has no routed tokens to place", input.label);
  if (!(options.fit_fraction > 0) || options.fit_fraction > 1)
    fail("--fit-fraction must be above 0 and at most 1");
  Study s;
  s.options = options;
  s.label = input.label;
  s.shape = input.routing.shape;
  s.n_tokens = n;
  s.n_model_layers = input.n_model_layers;
  s.recorded_requests = !input.requests.empty();
  const int64_t fit_end = std::clamp<int64_t>(std::llround(options.fit_fraction * double(n)), 1, n);
  s.fit = {0, fit_end};
  s.eval = fit_end < n ? TokenSpan{fit_end, n} : TokenSpan{0, n};
  const TraceRoutingSource source(input.routing, input.requests, input.steps);
  const ExpertStatistics stats = gather_statistics(source, s.fit);
  s.fit_load = stats.load;
  s.eval_load = gather_statistics(source, s.eval, false).load;
  const double beta = options.beta.value_or(options.sim.expert_ns > 0
                                                ? options.sim.token_bytes() / options.sim.intra_gbps /
                                                      options.sim.expert_ns
                                                : 1.0);
  std::vector<Placement> placements;
  for (Algorithm a : options.algorithms) {
    s.entries.push_back(fit_one(a, stats, options, beta));
    placements.push_back(s.entries.back().placement);
  }
  std::vector<PlacementMetrics> metrics = simulate(source, s.eval, placements, options.sim);
  for (size_t i = 0; i < metrics.size(); ++i) s.entries[i].metrics = std::move(metrics[i]);
  if (!metrics.empty()) s.eval_steps = s.entries[0].metrics.steps;
  return s;
}

std::string Study::describe_setup() const {
  const int32_t e = shape.n_layers() ? shape.n_experts[0] : 0;
  const int32_t k = shape.n_layers() ? shape.top_k[0] : 0;
  return fmt::format("Placement of {}: {} MoE layers x {} experts, top-{}; {} devices on {} node(s), "
                     "{} redundant expert slots per layer (EPLB, contiguous); home devices {}",
                     label, shape.n_layers(), e, k, options.topology.devices,
                     options.topology.nodes, options.redundant,
                     recorded_requests ? "by request (request % devices)"
                                       : "round-robin by token (the run holds one request)");
}

std::string Study::describe_split() const {
  if (!held_out())
    return fmt::format("Fitted and evaluated on the same {} tokens (in-sample: --fit-fraction 1 "
                       "or too few tokens to hold any out)",
                       n_tokens);
  return fmt::format("Fitted on tokens {}..{} ({:.0f} %), evaluated on the held-out tokens {}..{} "
                     "({} tokens in {} steps)",
                     fit.begin, fit.end - 1, 100.0 * double(fit.size()) / double(n_tokens),
                     eval.begin, eval.end - 1, eval.size(), eval_steps);
}

std::string Study::describe_model() const {
  return fmt::format("Token message {} ({}) x {} B; links {:g} GB/s intra-node, {:g} GB/s inter-node per "
                     "device; {:g} ns per token and expert (modelled)",
                     options.sim.hidden, options.hidden_origin, options.sim.dtype_bytes,
                     options.sim.intra_gbps,
                     options.sim.inter_gbps, options.sim.expert_ns);
}

std::string Study::sglang_logical_count() const {
  return sglang_logical_count_json(fit_load, shape.model_layer, n_model_layers);
}

std::string Study::physical_to_logical(const std::string& algorithm) const {
  for (const StudyEntry& e : entries)
    if (e.placement.algorithm == algorithm)
      return physical_to_logical_json(e.placement, shape.n_experts, shape.model_layer,
                                      n_model_layers);
  fail("--map-algo {} was not among the placements run (--algo)", algorithm);
}

std::string Study::llama_plan(uint64_t budget_bytes) const {
  return llama_plan_json(llama_offload_plan(shape, eval_load, budget_bytes));
}

}  // namespace moescope::placement
