#include "storage/cache_event_tap.h"

#include <algorithm>

namespace moescope::storage {

CacheEventTap::CacheEventTap(const policy::MoeShape& shape)
    : shape_(shape),
      prefetched_unused_(size_t(shape.total_experts()), 0),
      prefetch_seq_(size_t(shape.total_experts()), 0) {}

void CacheEventTap::begin_step(const policy::CacheSimulator& sim, const policy::StepInput& in) {
  phase_ = in.phase;
  first_pos_ = in.first_token.value;
  layer_ = in.layer;
  experts_.assign(in.experts.begin(), in.experts.end());
  pos_of_.assign(experts_.size(), first_pos_);
  // In a prefill chunk the access serves every token routed to the expert; book it on the first.
  for (size_t i = 0; i < experts_.size(); ++i) {
    for (size_t u = 0; u < in.routing.size(); ++u) {
      const auto& ex = in.routing[u].experts;
      if (std::find(ex.begin(), ex.end(), experts_[i]) != ex.end()) {
        pos_of_[i] = first_pos_ + int32_t(u);
        break;
      }
    }
  }
  ops_.clear();
  before_ = sim.report().phase[size_t(phase_)];
}

void CacheEventTap::on_load(ExpertKey key, bool prefetch, bool admitted) {
  ops_.push_back({prefetch ? Op::kPrefetch : admitted ? Op::kDemand : Op::kBypassLoad, key});
}

void CacheEventTap::on_evict(ExpertKey key) {
  ops_.push_back({Op::kEvict, key});
}

void CacheEventTap::end_step(const policy::CacheSimulator& sim, std::vector<CacheEvent>& out,
                             int64_t t_ns) {
  const policy::CacheCounters& after = sim.report().phase[size_t(phase_)];
  const size_t first_event = out.size();

  // Accesses come first in a step (demand loads and their victims), prefetches after.
  struct Use {
    size_t event;
    uint64_t seq;
  };
  std::vector<Use> uses;
  int64_t last_wait_event = -1;
  for (size_t i = 0; i < experts_.size(); ++i) {
    const ExpertKey key{layer_, experts_[i]};
    const int64_t k = shape_.key_index(key);
    CacheEvent ev{CacheEventKind::kHit, pos_of_[i], layer_, experts_[i], 0, 0, t_ns};
    const auto load = std::find_if(ops_.begin(), ops_.end(), [&](const Op& op) {
      return op.key == key && (op.kind == Op::kDemand || op.kind == Op::kBypassLoad);
    });
    if (load != ops_.end()) {
      ev.kind = load->kind == Op::kDemand ? CacheEventKind::kMiss : CacheEventKind::kBypass;
      ev.bytes = int64_t(shape_.bytes(layer_));
      last_wait_event = int64_t(out.size());
    } else if (prefetched_unused_[size_t(k)]) {
      ev.kind = CacheEventKind::kPrefetchUsed;
      prefetched_unused_[size_t(k)] = 0;
      uses.push_back({out.size(), prefetch_seq_[size_t(k)]});
    }
    out.push_back(ev);
  }
  // The simulator knows how many of the uses waited for their load: the latest issued ones.
  const int64_t late = after.prefetch_late - before_.prefetch_late;
  if (late > 0) {
    std::sort(uses.begin(), uses.end(), [](const Use& a, const Use& b) { return a.seq > b.seq; });
    for (int64_t i = 0; i < late && size_t(i) < uses.size(); ++i) {
      CacheEvent ev = out[uses[size_t(i)].event];
      ev.kind = CacheEventKind::kLate;
      last_wait_event = int64_t(out.size());
      out.push_back(ev);
    }
  }

  for (const Op& op : ops_) {
    const int64_t k = shape_.key_index(op.key);
    const int32_t pos = first_pos_;
    const int64_t bytes = int64_t(shape_.bytes(op.key.layer));
    switch (op.kind) {
      case Op::kEvict:
        if (prefetched_unused_[size_t(k)]) {
          out.push_back(
              {CacheEventKind::kWasted, pos, op.key.layer, op.key.expert, bytes, 0, t_ns});
          prefetched_unused_[size_t(k)] = 0;
        }
        out.push_back({CacheEventKind::kEviction, pos, op.key.layer, op.key.expert, 0, 0, t_ns});
        break;
      case Op::kPrefetch:
        out.push_back(
            {CacheEventKind::kPrefetchIssued, pos, op.key.layer, op.key.expert, bytes, 0, t_ns});
        prefetched_unused_[size_t(k)] = 1;
        prefetch_seq_[size_t(k)] = next_seq_++;
        break;
      case Op::kDemand:
      case Op::kBypassLoad:
        prefetched_unused_[size_t(k)] = 0;
        break;
    }
  }
  const int64_t stall = after.stall_ns - before_.stall_ns;
  if (stall > 0 && last_wait_event >= int64_t(first_event))
    out[size_t(last_wait_event)].wait_ns = stall;
  ops_.clear();
}

}  // namespace moescope::storage
