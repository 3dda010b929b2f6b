#pragma once
// One placement study of a recorded routing, as `moescope placement` and the report run it: fit
// every requested placement on the first part of the tokens, simulate them all on the rest (the
// held-out part; or on all tokens when the fit fraction is 1, said so in the output), and keep
// what the exports need.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/placement/ep_simulator.h"
#include "engine/placement/expert_statistics.h"
#include "engine/policy/routing_trace.h"

namespace moescope::placement {

enum class Algorithm : uint8_t { kContiguous, kEplb, kAffinity, kJoint };
const char* algorithm_name(Algorithm a);
// "contiguous", "eplb", "affinity", "joint", "all" or a comma list. Throws moescope::Error.
std::vector<Algorithm> parse_algorithms(const std::string& text);

struct StudyOptions {
  Topology topology;
  int32_t redundant = 0;               // EPLB and contiguous; affinity/joint place no replicas
  std::optional<int32_t> groups;       // EPLB expert groups (hierarchical when they divide)
  std::vector<Algorithm> algorithms = {Algorithm::kContiguous, Algorithm::kEplb,
                                       Algorithm::kAffinity, Algorithm::kJoint};
  double fit_fraction = 0.5;
  SimOptions sim;
  std::optional<double> beta;  // joint; default: token transfer time / expert time
  std::string hidden_origin = "assumed";  // where sim.hidden came from, for the output
};

struct StudyInput {
  const policy::RoutingTrace& routing;
  std::vector<RequestId> requests;  // [tokens] recorded request ids, or empty (one per token)
  std::vector<int64_t> steps;       // [tokens] forward pass of each token, or empty
  int32_t n_model_layers = 0;       // blocks of the model, dense ones included
  std::string label;
};

struct StudyEntry {
  Placement placement;
  PlacementMetrics metrics;
  std::string note;
};

struct Study {
  StudyOptions options;
  TokenSpan fit, eval;
  int64_t n_tokens = 0;
  int64_t eval_steps = 0;
  std::string label;
  policy::MoeShape shape;
  int32_t n_model_layers = 0;
  bool recorded_requests = false;  // home devices from request ids (else round-robin by token)
  std::vector<std::vector<double>> fit_load;   // [layers][experts]
  std::vector<std::vector<double>> eval_load;  // [layers][experts]
  std::vector<StudyEntry> entries;             // in the order of options.algorithms

  bool held_out() const { return fit.end <= eval.begin; }
  std::string describe_setup() const;
  std::string describe_split() const;
  std::string describe_model() const;

  // Export files (engine_exports.h). physical_to_logical throws when the algorithm was not run.
  std::string sglang_logical_count() const;
  std::string physical_to_logical(const std::string& algorithm) const;
  std::string llama_plan(uint64_t budget_bytes) const;
};

// Throws moescope::Error on an empty routing, a fit fraction that leaves nothing to fit, or
// sizes the algorithms cannot place (a one-line message naming the algorithm).
Study run_study(const StudyInput& input, const StudyOptions& options);

}  // namespace moescope::placement
