#include "engine/batching/scheduler.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "engine/common/error.h"

namespace moescope::batching {
namespace {

// Indices of the candidates ordered by `less`.
template <typename Less>
std::vector<size_t> ordered(std::span<const Candidate> c, Less less) {
  std::vector<size_t> order(c.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return less(c[a], c[b]); });
  return order;
}

class FifoScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "fifo"; }
  std::vector<size_t> pick(std::span<const Candidate> c, const StepLimits& limits) override {
    std::vector<size_t> picked;
    int64_t tokens = 0;
    for (size_t i :
         ordered(c, [](const Candidate&a, const Candidate&b) { return a.arrival < b.arrival; })) {
      if (static_cast<int>(picked.size()) == limits.max_batch) break;
      if (tokens + c[i].n_tokens > limits.max_tokens) continue;
      tokens += c[i].n_tokens;
      picked.push_back(i);
    }
    return picked;
  }
};

class ExpertAwareScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "expert-aware"; }
  std::vector<size_t> pick(std::span<const Candidate> c, const StepLimits& limits) override {
    // Longest waiting first; the first one that fits anchors the step.
    const std::vector<size_t> by_wait = ordered(c, [](const Candidate& a, const Candidate& b) {
      return a.waiting_since != b.waiting_since ? a.waiting_since < b.waiting_since
                                                : a.arrival < b.arrival;
    });
    std::vector<size_t> picked;
    std::vector<uint8_t> in_step(c.size(), 0);
    std::vector<uint8_t> used;  // union of the picked predictions
    int64_t tokens = 0;
    auto take = [&](size_t i) {
      picked.push_back(i);
      in_step[i] = 1;
      tokens += c[i].n_tokens;
      if (used.size() < c[i].predicted.size()) used.resize(c[i].predicted.size(), 0);
      for (size_t j = 0; j < c[i].predicted.size(); ++j) used[j] |= c[i].predicted[j];
    };
    for (size_t i : by_wait) {
      if (c[i].n_tokens <= limits.max_tokens) {
        take(i);
        break;
      }
    }
    while (!picked.empty() && static_cast<int>(picked.size()) < limits.max_batch) {
      size_t best = c.size();
      int64_t best_cost = 0;
      for (size_t i : by_wait) {  // ties go to the longest waiting
        if (in_step[i] || tokens + c[i].n_tokens > limits.max_tokens) continue;
        const int64_t cost = new_experts(c[i].predicted, used);
        if (best == c.size() || cost < best_cost) {
          best = i;
          best_cost = cost;
        }
      }
      if (best == c.size()) break;
      take(best);
    }
    return picked;
  }

 private:
  // Experts of `predicted` not in `used`; a missing prediction costs the most any can.
  static int64_t new_experts(std::span<const uint8_t> predicted, const std::vector<uint8_t>& used) {
    if (predicted.empty()) return std::numeric_limits<int32_t>::max();
    int64_t n = 0;
    for (size_t j = 0; j < predicted.size(); ++j) {
      n += predicted[j] != 0 && (j >= used.size() || used[j] == 0);
    }
    return n;
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_scheduler(std::string_view name) {
  if (name == "fifo") return std::make_unique<FifoScheduler>();
  if (name == "expert-aware") return std::make_unique<ExpertAwareScheduler>();
  fail("unknown scheduler '{}' (fifo, expert-aware)", name);
}

}  // namespace moescope::batching
