#pragma once
// One load channel in modelled time. Loads go over the link one at a time; demand loads go before
// queued prefetches (a load already on the link is never preempted), and prefetches go in the
// order of the step they are for. Times are integer nanoseconds so that two runs of the same
// stream give bit-identical results.
#include <cstdint>
#include <deque>
#include <set>
#include <utility>
#include <vector>

#include "engine/policy/link_model.h"

namespace moescope::policy {

class LoaderModel {
 public:
  using LoadId = uint64_t;
  struct Started {
    LoadId id;
    int64_t end_ns;  // when the load completes
  };

  explicit LoaderModel(LinkModel link = {}) : link_(std::move(link)) {}

  void enqueue_demand(LoadId id, uint64_t bytes, int64_t now_ns);
  // `order` ranks prefetches: lower goes first (the target step), ties by issue order.
  void enqueue_prefetch(LoadId id, uint64_t bytes, int64_t now_ns, int64_t order);
  // A queued prefetch is now needed: it moves behind the queued demand loads. False if it is
  // already on the link (or done).
  bool promote(LoadId id);
  // Drops a load that has not started. False if it is already on the link (or done).
  bool cancel(LoadId id);

  // Puts on the link every queued load that starts before t.
  void advance_to(int64_t t);
  // Puts loads on the link in priority order until `id` is on it; returns its completion time.
  // `id` must be queued.
  int64_t complete(LoadId id);

  // Look-ahead for the prefetch gate (nothing changes): when the queued demand loads will have
  // completed, and when a prefetch of `bytes` enqueued now with `order` would complete (after the
  // load on the link, the queued demand loads and the prefetches that go before it).
  int64_t demand_completion(int64_t now_ns) const;
  int64_t prefetch_completion(uint64_t bytes, int64_t now_ns, int64_t order) const;

  // Moves the loads put on the link since the last call, with their completion times, into out.
  void take_started(std::vector<Started>& out) {
    out.clear();
    out.swap(started_);
  }

  const LinkModel& link() const { return link_; }
  int64_t busy_ns() const { return busy_ns_; }
  bool idle() const { return demand_.empty() && prefetch_.empty(); }

 private:
  struct Pending {
    LoadId id;
    uint64_t bytes;
    int64_t enqueue_ns;
    int64_t order;
    uint64_t seq;
    bool operator<(const Pending& o) const {
      return order != o.order ? order < o.order : seq < o.seq;
    }
  };

  bool has_next() const { return !demand_.empty() || !prefetch_.empty(); }
  const Pending& next() const { return demand_.empty() ? *prefetch_.begin() : demand_.front(); }
  int64_t next_start() const;
  Started start_next();

  LinkModel link_;
  std::deque<Pending> demand_;
  std::set<Pending> prefetch_;
  std::vector<Started> started_;
  int64_t busy_until_ = 0;
  int64_t busy_ns_ = 0;
  uint64_t seq_ = 0;
};

}  // namespace moescope::policy
