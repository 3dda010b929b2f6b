#pragma once
// Policies by name, as the CLI and the GUI spell them (docs/policies-cli.md): "lru", "lru-global",
// "lfu:0.95", "random:42", "sch:16", "belady-bypass", ... A "-global" suffix runs the policy over one
// pool shared by all layers instead of one partition per layer. The names, their parameters and
// what each needs are the registry's (registry.h).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/policy/access_stream.h"
#include "engine/policy/capacity.h"
#include "engine/policy/policy.h"
#include "engine/policy/routing_trace.h"

namespace moescope::policy {

struct PolicySpec {
  std::string text;  // canonical spelling, e.g. "lfu-global:0.95"
  std::string kind;  // base name, e.g. "lfu"
  PoolKind pool = PoolKind::kPerLayer;
  std::vector<double> params;  // defaults filled in
  bool oracle = false;         // reads the recorded future
  bool needs_history = false;  // reads an earlier trace (static-freq)
};

// Throws moescope::Error naming the accepted spellings.
PolicySpec parse_policy_spec(std::string_view text);

struct PolicyInputs {
  std::shared_ptr<const AccessStream> future;  // for oracles
  const RoutingTrace* history = nullptr;       // for static-freq
};
std::unique_ptr<CachePolicy> make_policy(const PolicySpec& spec, const PolicyInputs& inputs);

}  // namespace moescope::policy
