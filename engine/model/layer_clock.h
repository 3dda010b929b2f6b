#pragma once
// Per-MoE-layer time of one forward call, measured between routing callbacks (the trace recording
// and the desktop app both measure it so): layer l's interval runs from its first routing event
// to the next MoE layer's first one (or to the end of the call), so it holds the layer's experts,
// their stall and the dense work up to the next router. Its stall is the growth of a stall clock
// (cumulative time compute waited for expert loads) over the same interval; the layer's compute
// is interval - stall. The caller reads its own clocks and passes the readings in.
#include <cstdint>
#include <vector>

namespace moescope {

class LayerClock {
 public:
  // A forward call over n_layers MoE layers begins.
  void begin(int32_t n_layers) {
    start_.assign(size_t(n_layers), -1);
    stall_start_.assign(size_t(n_layers), 0);
  }
  // MoE layer m routes the call's first token at now_ns, the stall clock reading stall_ns.
  void layer(int32_t m, int64_t now_ns, int64_t stall_ns) {
    start_[size_t(m)] = now_ns;
    stall_start_[size_t(m)] = stall_ns;
  }
  // The call ends at end_ns (stall clock stall_end_ns): [n_layers] each layer's interval and its
  // stall, 0 for layers that did not route.
  void finish(int64_t end_ns, int64_t stall_end_ns, std::vector<int64_t>& layer_ns,
              std::vector<int64_t>& layer_stall_ns) const {
    const auto n = int32_t(start_.size());
    layer_ns.assign(size_t(n), 0);
    layer_stall_ns.assign(size_t(n), 0);
    for (int32_t m = 0; m < n; ++m) {
      if (start_[size_t(m)] < 0) continue;
      int64_t end = end_ns, stall = stall_end_ns;
      for (int32_t next = m + 1; next < n; ++next) {
        if (start_[size_t(next)] >= 0) {
          end = start_[size_t(next)];
          stall = stall_start_[size_t(next)];
          break;
        }
      }
      layer_ns[size_t(m)] = end - start_[size_t(m)];
      layer_stall_ns[size_t(m)] = stall - stall_start_[size_t(m)];
    }
  }

 private:
  std::vector<int64_t> start_;        // [n_layers] time of the layer's first routing, -1: none
  std::vector<int64_t> stall_start_;  // [n_layers]
};

}  // namespace moescope
