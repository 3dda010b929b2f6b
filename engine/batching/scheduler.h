#pragma once
// Which of the active requests go into the next forward call. Scheduling is exact: it changes
// which requests share a step, never what a request computes (Model::forward_batch gives every
// sequence the values it gets alone).
//  - fifo: the oldest requests first (arrival order), as many as the step's limits allow.
//  - expert-aware (ExpertFlow's token scheduling, arXiv 2410.17954): the request that has waited
//    longest anchors the step (no request starves); then, one at a time, the request whose
//    predicted route adds the fewest experts not yet in the step's union, so the step activates
//    fewer distinct experts. A request's prediction is the (layer, expert) set its rows used in
//    its previous step (routing is strongly correlated from one token to the next); a request
//    that has not run yet has none and costs as much as a whole route.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/ids.h"

namespace moescope::batching {

// One active request as the scheduler sees it.
struct Candidate {
  RequestId id;
  int64_t n_tokens = 0;       // rows it would add to the step (a prompt chunk, or 1)
  int64_t arrival = 0;        // arrival order (0 = first)
  int64_t waiting_since = 0;  // the step after the last one it ran in (its arrival step if never)
  // [n_layer * n_expert]: 1 where its route is predicted to use (layer, expert); empty when
  // there is no prediction yet.
  std::span<const uint8_t> predicted;
};

struct StepLimits {
  int max_batch = 16;        // requests per step
  int64_t max_tokens = 512;  // rows per step
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::string_view name() const = 0;
  // Indices into `candidates` of the requests of the next step (at least one when any fits).
  virtual std::vector<size_t> pick(std::span<const Candidate> candidates,
                                   const StepLimits& limits) = 0;
};

// "fifo" or "expert-aware"; throws moescope::Error naming the valid ones.
std::unique_ptr<Scheduler> make_scheduler(std::string_view name);
inline constexpr std::string_view kSchedulerNames[] = {"fifo", "expert-aware"};

}  // namespace moescope::batching
