#pragma once
// Everything that configures expert offloading, in one struct the CLI and the GUI fill from their
// flags (--expert-budget, --expert-slots, --policy, --prefetch, --link, --link-bandwidth,
// --link-latency, --expert-pack). The store reads it once, at construction.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/offload/byte_size.h"
#include "engine/offload/lossy_gating.h"
#include "engine/policy/access_stream.h"
#include "engine/policy/allocators.h"
#include "engine/policy/capacity.h"
#include "engine/policy/link_model.h"
#include "engine/policy/routing_trace.h"
#include "engine/policy/shadow_set.h"

namespace moescope::offload {

// How experts are read from the GGUF file. With the page cache a load that this machine read
// before comes from RAM, so "from disk" would not mean the disk; the other two make it so.
enum class SlowTierRead : uint8_t {
  kPageCache,  // pread through the page cache (the default)
  kDirect,     // O_DIRECT: every load reads the device; the file system must support it
  kDropCache,  // pread after dropping the range from the page cache (posix_fadvise DONTNEED):
               // the fallback where O_DIRECT is not supported
};
// "cache", "direct", "dropcache"; throws moescope::Error naming the choices.
SlowTierRead parse_slow_tier_read(std::string_view text);
std::string_view slow_tier_read_name(SlowTierRead read);

struct OffloadConfig {
  // How much fast memory routed experts may occupy: Budget::bytes(n) or Budget::slots(n) (slots
  // are experts in total, split over the layers by `allocator` for per-layer policies).
  policy::Budget budget;  // default: 0 slots
  // Overrides budget + allocator with an exact capacity (tests, "one slot per layer").
  std::optional<policy::CacheCapacity> capacity;
  policy::AllocatorKind allocator = policy::AllocatorKind::kUniform;

  std::string policy = "lru";       // policy spec (policy_factory.h); "-global" = one pool
  std::string prefetcher = "none";  // prefetcher spec (prefetcher.h)
  // An earlier trace for static-freq, fitted prefetchers and trace-based allocators.
  const policy::RoutingTrace* history = nullptr;
  // The recorded future, for oracle policies (belady-bypass, opt, sch, stationary).
  std::shared_ptr<const policy::AccessStream> future;

  // The emulated link between the backing tier and the arena; loads are paced to it.
  policy::LinkModel link;
  // Where experts live: empty = the GGUF file itself (pread); else an expert pack written by
  // `moescope pack` for this model.
  std::filesystem::path pack;
  // How the GGUF file's experts are read (an expert pack is always read through the page cache).
  SlowTierRead read = SlowTierRead::kPageCache;

  // Buffers beyond the budget for experts a step needs but the policy does not keep (bypasses,
  // experts evicted by their own step). At least 1; 2 lets one load while the other computes.
  int32_t scratch_buffers = 2;
  // Hand the policy each token's full router distribution (softmax / normalised scores of the
  // router logits, as RoutingTraceRecorder records them with probabilities), for MRS. Off: the
  // policy sees the top-k weights only, like a trace recorded without probabilities.
  bool router_probs = false;
  // Keep a log of every physical load (tests, benchmarks).
  bool record_loads = false;

  // Policies to run as shadows on the identical access stream and budget (--compare); oracles
  // among them are evaluated in a second pass over the recorded stream.
  std::vector<policy::ShadowSpec> compare;
  // Keep the access stream as it happens (for hit-rate curves) even without oracle shadows.
  bool record_stream = false;
  // Model time with each layer's measured compute time (ExpertStore::compute_times() records
  // them); off: the timing model's constants, as a replay without compute times uses.
  bool measured_compute = true;
  // Gating variants that change the computation (lossy_gating.h); default exact.
  LossyOptions lossy;
};

// The flags as the command line spells them; empty strings are "not given".
struct OffloadFlags {
  std::string expert_budget;   // --expert-budget 256MiB
  std::string expert_slots;    // --expert-slots N
  std::string policy;          // --policy lru
  std::string prefetch;        // --prefetch none
  std::string link;            // --link nvme
  std::string link_bandwidth;  // --link-bandwidth 3GB/s (overrides the preset's)
  std::string link_latency;    // --link-latency 80us (overrides the preset's)
  std::string allocator;       // --allocator uniform
  std::string expert_pack;     // --expert-pack FILE
  std::string expert_read;     // --expert-read direct
  std::string compare;         // --compare lru,fifo,belady-bypass,lru-global@same-prev
  std::string adaptive_topk;   // --adaptive-topk 0.3 (lossy)
  std::string substitute;      // --substitute 0.05 (lossy)
  bool any() const { return !expert_budget.empty() || !expert_slots.empty(); }
};

// Turns flags into a config; throws moescope::Error naming the bad flag. Exactly one of
// --expert-budget and --expert-slots must be given. Policy names (also in --compare) and the lossy
// flags are checked here; prefetchers, and whatever needs a trace, when the store is built.
OffloadConfig make_offload_config(const OffloadFlags& flags);
// A preset, optionally with its bandwidth / latency replaced ("custom" when both are given
// without a preset).
policy::LinkModel make_link(std::string_view preset, std::string_view bandwidth,
                            std::string_view latency);

}  // namespace moescope::offload
