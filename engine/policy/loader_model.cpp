#include "engine/policy/loader_model.h"

#include <algorithm>
#include <stdexcept>

namespace moescope::policy {

void LoaderModel::enqueue_demand(LoadId id, uint64_t bytes, int64_t now_ns) {
  demand_.push_back({id, bytes, now_ns, 0, seq_++});
}

void LoaderModel::enqueue_prefetch(LoadId id, uint64_t bytes, int64_t now_ns, int64_t order) {
  prefetch_.insert({id, bytes, now_ns, order, seq_++});
}

bool LoaderModel::promote(LoadId id) {
  for (auto it = prefetch_.begin(); it != prefetch_.end(); ++it) {
    if (it->id != id) continue;
    Pending p = *it;
    prefetch_.erase(it);
    p.seq = seq_++;
    demand_.push_back(p);
    return true;
  }
  return false;
}

bool LoaderModel::cancel(LoadId id) {
  for (auto it = prefetch_.begin(); it != prefetch_.end(); ++it)
    if (it->id == id) {
      prefetch_.erase(it);
      return true;
    }
  for (auto it = demand_.begin(); it != demand_.end(); ++it)
    if (it->id == id) {
      demand_.erase(it);
      return true;
    }
  return false;
}

int64_t LoaderModel::next_start() const {
  return std::max(busy_until_, next().enqueue_ns);
}

LoaderModel::Started LoaderModel::start_next() {
  const Pending p = next();
  if (demand_.empty())
    prefetch_.erase(prefetch_.begin());
  else
    demand_.pop_front();
  const int64_t start = std::max(busy_until_, p.enqueue_ns);
  const int64_t end = start + link_.transfer_ns(p.bytes);
  busy_ns_ += end - start;
  busy_until_ = end;
  started_.push_back({p.id, end});
  return started_.back();
}

void LoaderModel::advance_to(int64_t t) {
  while (has_next() && next_start() < t) start_next();
}

int64_t LoaderModel::demand_completion(int64_t now_ns) const {
  int64_t t = std::max(busy_until_, now_ns);
  for (const Pending& p : demand_) t = std::max(t, p.enqueue_ns) + link_.transfer_ns(p.bytes);
  return t;
}

int64_t LoaderModel::prefetch_completion(uint64_t bytes, int64_t now_ns, int64_t order) const {
  int64_t t = demand_completion(now_ns);
  for (const Pending& p : prefetch_) {
    if (p.order > order) break;  // ordered by (order, seq): the rest go after it
    t = std::max(t, p.enqueue_ns) + link_.transfer_ns(p.bytes);
  }
  return std::max(t, now_ns) + link_.transfer_ns(bytes);
}

int64_t LoaderModel::complete(LoadId id) {
  while (has_next()) {
    const Started s = start_next();
    if (s.id == id) return s.end_ns;
  }
  throw std::logic_error("LoaderModel::complete: the load is not queued");
}

}  // namespace moescope::policy
