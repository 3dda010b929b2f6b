#include "engine/policy/policy_factory.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "engine/common/error.h"
#include "engine/policy/policies.h"
#include "engine/policy/registry.h"

namespace moescope::policy {

namespace {

double parse_number(std::string_view text, std::string_view spec) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v))
    fail("policy '{}': '{}' is not a number", spec, text);
  return v;
}

}  // namespace

PolicySpec parse_policy_spec(std::string_view text) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  std::string_view name = parts[0];
  PolicySpec spec;
  constexpr std::string_view kSuffix = "-global";
  bool global = false;
  if (name.size() > kSuffix.size() && name.ends_with(kSuffix)) {
    name.remove_suffix(kSuffix.size());
    global = true;
  }
  const RegistryEntry* e = find_entry(EntryKind::kPolicy, name);
  if (!e) {
    fail("unknown policy '{}' (known: {}; add -global for one shared pool)", text,
         registry_names(EntryKind::kPolicy));
  }
  const bool has_param = !e->params.empty();
  if (global && !(e->forms & kGlobalForm)) fail("policy '{}' has no global form", text);
  if (!(e->forms & kPerLayerForm)) global = true;
  if (parts.size() > (has_param ? 2u : 1u))
    fail("policy '{}' takes at most {} parameter", text, has_param ? 1 : 0);
  spec.kind = std::string(e->name);
  spec.pool = global ? PoolKind::kGlobal : PoolKind::kPerLayer;
  spec.oracle = e->needs == Needs::kFuture;
  spec.needs_history = e->needs == Needs::kHistory;
  if (has_param)
    spec.params.push_back(parts.size() > 1 ? parse_number(parts[1], text) : e->param_default);
  spec.text = spec.kind + (global && (e->forms & kPerLayerForm) ? "-global" : "");
  for (double p : spec.params) spec.text += fmt::format(":{}", p);
  return spec;
}

std::unique_ptr<CachePolicy> make_policy(const PolicySpec& spec, const PolicyInputs& in) {
  const std::string& k = spec.kind;
  const double p = spec.params.empty() ? 0 : spec.params[0];
  if (spec.oracle && !in.future)
    fail("policy '{}' is an oracle and needs a recorded access stream (replay, or a prior run)",
         spec.text);
  if (k == "on-demand") return make_on_demand();
  if (k == "lru") return make_lru();
  if (k == "fifo") return make_fifo();
  if (k == "lfu") return make_lfu(p);
  if (k == "random") {
    if (p < 0 || p != std::floor(p) || p > 0x1p53) fail("random's seed must be a whole number");
    return make_random(uint64_t(p));
  }
  if (k == "arc") return make_arc();
  if (k == "mrs") return make_mrs(p);
  if (k == "least-stale") return make_least_stale();
  if (k == "lookahead") {
    if (p != std::floor(p)) fail("lookahead's window must be a whole number of layers");
    return make_layer_lookahead(int32_t(std::clamp(p, -1.0, 1e6)));
  }
  if (k == "static-freq") {
    if (!in.history) fail("static-freq needs an earlier routing trace to count experts from");
    return make_static_freq(*in.history);
  }
  if (k == "static-front") return make_static_layers(false);
  if (k == "static-back") return make_static_layers(true);
  if (k == "belady-bypass") return make_belady(in.future, true);
  if (k == "opt") return make_belady(in.future, false);
  if (k == "sch") {
    if (p != std::floor(p)) fail("sch's window must be a whole number of tokens");
    return make_sch(in.future, int32_t(std::clamp(p, -1.0, 1e9)));
  }
  if (k == "stationary") return make_stationary(in.future);
  fail("unknown policy '{}'", spec.text);
}

}  // namespace moescope::policy
