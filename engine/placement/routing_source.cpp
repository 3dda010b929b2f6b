#include "engine/placement/routing_source.h"

#include <algorithm>
#include <functional>

#include "engine/common/error.h"

namespace moescope::placement {

TraceRoutingSource::TraceRoutingSource(const policy::RoutingTrace& trace,
                                       std::vector<RequestId> requests,
                                       std::vector<int64_t> steps)
    : trace_(trace), requests_(std::move(requests)), steps_(std::move(steps)) {
  if (!requests_.empty() && int64_t(requests_.size()) != trace.n_tokens())
    fail("{} request ids for {} tokens", requests_.size(), trace.n_tokens());
  if (!steps_.empty() && int64_t(steps_.size()) != trace.n_tokens())
    fail("{} step ids for {} tokens", steps_.size(), trace.n_tokens());
  if (!std::is_sorted(steps_.begin(), steps_.end())) fail("step ids must not decrease");
}

void TraceRoutingSource::visit(TokenSpan span,
                               const std::function<void(const TokenRoute&)>& visit) const {
  const int64_t layers = trace_.n_layers();
  TokenRoute route;
  route.base = trace_.selected.data();
  for (int64_t t = std::max<int64_t>(span.begin, 0); t < std::min(span.end, n_tokens()); ++t) {
    route.index = t;
    route.request = requests_.empty() ? RequestId{t} : requests_[size_t(t)];
    route.step = steps_.empty() ? t : steps_[size_t(t)];
    route.offsets = trace_.offsets.data() + t * layers;
    visit(route);
  }
}

std::vector<int64_t> steps_from_calls(const std::vector<int32_t>& call_starts, int64_t n_tokens) {
  std::vector<int64_t> steps(size_t(std::max<int64_t>(n_tokens, 0)));
  int64_t step = -1;
  size_t next = 0;
  for (int64_t t = 0; t < n_tokens; ++t) {
    while (next < call_starts.size() && call_starts[next] <= t) ++step, ++next;
    steps[size_t(t)] = std::max<int64_t>(step, 0);
  }
  return steps;
}

RecordedIds recorded_ids(const std::vector<int32_t>& token_requests,
                         const std::vector<int32_t>& token_steps,
                         const std::vector<int32_t>& call_starts, int64_t n_tokens) {
  RecordedIds ids;
  const auto n = size_t(std::max<int64_t>(n_tokens, 0));
  const bool many_requests =
      token_requests.size() == n &&
      std::adjacent_find(token_requests.begin(), token_requests.end(), std::not_equal_to<>()) !=
          token_requests.end();
  if (many_requests) {
    ids.requests.reserve(n);
    for (int32_t r : token_requests) ids.requests.push_back(RequestId{r});
  }
  const bool steps_usable = token_steps.size() == n &&
                            std::all_of(token_steps.begin(), token_steps.end(),
                                        [](int32_t s) { return s >= 0; }) &&
                            std::is_sorted(token_steps.begin(), token_steps.end());
  if (steps_usable && n > 0) {
    ids.steps.assign(token_steps.begin(), token_steps.end());
  } else {
    ids.steps = steps_from_calls(call_starts, n_tokens);
  }
  return ids;
}

}  // namespace moescope::placement
