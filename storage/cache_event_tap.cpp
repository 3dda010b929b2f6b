#include "storage/cache_event_tap.h"

namespace moescope::storage {

CacheEventTap::CacheEventTap(const policy::MoeShape& shape) : shape_(shape), outcomes_(shape) {}

void CacheEventTap::begin_step(const policy::CacheSimulator& sim, const policy::StepInput& in) {
  first_pos_ = in.first_token.value;
  outcomes_.begin_step(sim, in);
}

void CacheEventTap::end_step(const policy::CacheSimulator& sim, std::vector<CacheEvent>& out,
                             int64_t t_ns) {
  using policy::Outcome;
  using Op = policy::StepOutcomes::Op;
  outcomes_.end_step(sim);
  const MoeLayerId layer = outcomes_.layer();
  const size_t first_event = out.size();
  int64_t last_wait_event = -1;
  for (const policy::StepOutcomes::Access& a : outcomes_.accesses()) {
    CacheEvent ev{CacheEventKind::kHit, a.token.value, layer, a.expert, 0, 0, t_ns};
    switch (a.outcome) {
      case Outcome::kHit:
        break;
      case Outcome::kMiss:
      case Outcome::kBypass:
        ev.kind = a.outcome == Outcome::kMiss ? CacheEventKind::kMiss : CacheEventKind::kBypass;
        ev.bytes = int64_t(shape_.bytes(layer));
        last_wait_event = int64_t(out.size());
        break;
      case Outcome::kPrefetchHit:
      case Outcome::kLateHit:  // a use, then (below) that it was late
        ev.kind = CacheEventKind::kPrefetchUsed;
        break;
    }
    out.push_back(ev);
  }
  for (size_t i : outcomes_.late()) {
    CacheEvent ev = out[first_event + i];
    ev.kind = CacheEventKind::kLate;
    last_wait_event = int64_t(out.size());
    out.push_back(ev);
  }
  for (const Op& op : outcomes_.ops()) {
    const int64_t bytes = int64_t(shape_.bytes(op.key.layer));
    switch (op.kind) {
      case Op::kEvict:
        if (op.wasted)
          out.push_back(
              {CacheEventKind::kWasted, first_pos_, op.key.layer, op.key.expert, bytes, 0, t_ns});
        out.push_back(
            {CacheEventKind::kEviction, first_pos_, op.key.layer, op.key.expert, 0, 0, t_ns});
        break;
      case Op::kPrefetch:
        out.push_back({CacheEventKind::kPrefetchIssued, first_pos_, op.key.layer, op.key.expert,
                       bytes, 0, t_ns});
        break;
      case Op::kDemand:
      case Op::kBypassLoad:
        break;
    }
  }
  const int64_t stall = outcomes_.stall_ns();
  if (stall > 0 && last_wait_event >= int64_t(first_event))
    out[size_t(last_wait_event)].wait_ns = stall;
}

}  // namespace moescope::storage
