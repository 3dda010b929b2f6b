#include "engine/policy/policy_factory.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <utility>

#include "engine/common/error.h"
#include "engine/policy/policies.h"

namespace moescope::policy {

namespace {

enum Forms : uint8_t { kLayer = 1, kGlobal = 2, kBoth = 3 };
enum Needs : uint8_t { kNothing, kFuture, kHistory };

struct Entry {
  std::string_view name;
  Forms forms;  // per-layer (bare name) and/or global (NAME-global) forms
  Needs needs;
  bool has_param;  // one optional parameter, with this default
  double param;
  std::string_view help;
};

// clang-format off
constexpr std::array<Entry, 16> kPolicies{{
    {"on-demand",    kLayer,  kNothing, false, 0,    "nothing cached: load, use, drop"},
    {"lru",          kBoth,   kNothing, false, 0,    "least recently used"},
    {"fifo",         kBoth,   kNothing, false, 0,    "first in, first out"},
    {"lfu",          kBoth,   kNothing, true,  1.0,  "lfu[:gamma] least frequently used, aging"},
    {"random",       kBoth,   kNothing, true,  0,    "random[:seed] uniform random victim"},
    {"arc",          kBoth,   kNothing, false, 0,    "adaptive replacement cache"},
    {"mrs",          kBoth,   kNothing, true,  0.75, "mrs[:alpha] HybriMoE router-score cache"},
    {"least-stale",  kGlobal, kNothing, false, 0,    "evict layers that already ran first"},
    {"lookahead",    kGlobal, kNothing, true,  3,    "lookahead[:w] LRU sparing the next w layers"},
    {"static-freq",  kBoth,   kHistory, false, 0,    "pin the most routed experts of a trace"},
    {"static-front", kGlobal, kNothing, false, 0,    "pin whole layers from the first"},
    {"static-back",  kGlobal, kNothing, false, 0,    "pin whole layers from the last"},
    {"belady-bypass", kBoth,  kFuture,  false, 0,    "oracle: farthest next use, may not admit (old name: belady)"},
    {"opt",          kBoth,   kFuture,  false, 0,    "oracle: demand-paging MIN, always admits"},
    {"sch",          kBoth,   kFuture,  true,  16,   "sch[:m] oracle: fewest uses in m tokens"},
    {"stationary",   kBoth,   kFuture,  false, 0,    "oracle: pin the most used of the whole run"},
}};
// clang-format on

// Names of earlier MoEScope versions, read from old traces and accepted on the command line:
// "belady" was the bypassing oracle, now "belady-bypass" so that it is never confused with
// demand-paging MIN ("opt", the suitability analysis' bound).
constexpr std::array<std::pair<std::string_view, std::string_view>, 1> kOldNames{{
    {"belady", "belady-bypass"},
}};

const Entry* find(std::string_view name) {
  for (const auto& [old_name, new_name] : kOldNames)
    if (name == old_name) name = new_name;
  for (const Entry& e : kPolicies)
    if (e.name == name) return &e;
  return nullptr;
}

double parse_number(std::string_view text, std::string_view spec) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v))
    fail("policy '{}': '{}' is not a number", spec, text);
  return v;
}

std::string names() {
  std::string s;
  for (const Entry& e : kPolicies) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
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
  const Entry* e = find(name);
  if (!e) fail("unknown policy '{}' (known: {}; add -global for one shared pool)", text, names());
  if (global && !(e->forms & kGlobal)) fail("policy '{}' has no global form", text);
  if (!(e->forms & kLayer)) global = true;
  if (parts.size() > (e->has_param ? 2u : 1u))
    fail("policy '{}' takes at most {} parameter", text, e->has_param ? 1 : 0);
  spec.kind = std::string(e->name);
  spec.pool = global ? PoolKind::kGlobal : PoolKind::kPerLayer;
  spec.oracle = e->needs == kFuture;
  spec.needs_history = e->needs == kHistory;
  if (e->has_param)
    spec.params.push_back(parts.size() > 1 ? parse_number(parts[1], text) : e->param);
  spec.text = spec.kind + (global && (e->forms & kLayer) ? "-global" : "");
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

std::vector<std::string> policy_help() {
  std::vector<std::string> lines;
  auto line = [&](const Entry& e) {
    const char* forms =
        e.forms == kBoth ? " (also -global)" : (e.forms == kGlobal ? " (global)" : "");
    lines.push_back(fmt::format("{:<14}{}{}", e.name, e.help, forms));
  };
  for (const Entry& e : kPolicies) line(e);
  return lines;
}

}  // namespace moescope::policy
