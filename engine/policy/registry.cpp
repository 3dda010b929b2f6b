#include "engine/policy/registry.h"

#include <array>

#include <fmt/format.h>

namespace moescope::policy {
namespace {

constexpr EntryKind P = EntryKind::kPolicy;
constexpr EntryKind F = EntryKind::kPrefetcher;

// In the order the GUI lists them (its colours follow this order too): online policies, then the
// ones only compared, the oracles, and those fitted on an earlier trace; prefetchers likewise.
// clang-format off
constexpr std::array<RegistryEntry, 23> kEntries{{
  {"lru", P, "", "", 0,
   "least recently used",
   kBothForms, Needs::kNothing, false, Offer::kDrive, "lru lru-global",
   "least recently used"},
  {"lfu", P, "[:gamma]", "aging factor per token (1 = none)", 1.0,
   "least frequently used over all (l, e) counts; ties LRU",
   kBothForms, Needs::kNothing, false, Offer::kDrive, "lfu lfu-global",
   "least frequently used, aging"},
  {"fifo", P, "", "", 0,
   "first in, first out",
   kBothForms, Needs::kNothing, false, Offer::kDrive, "fifo fifo-global",
   "first in, first out"},
  {"random", P, "[:seed]", "seed (0)", 0,
   "uniform random victim, reproducible",
   kBothForms, Needs::kNothing, false, Offer::kDrive, "random",
   "uniform random victim"},
  {"arc", P, "", "", 0,
   "ARC (T1/T2/B1/B2, adaptive p); in a byte pool c = budget / mean expert size",
   kBothForms, Needs::kNothing, false, Offer::kDrive, "arc",
   "adaptive replacement cache"},
  {"least-stale", P, "", "", 0,
   "evict experts of layers that already ran for this token first (LRU), else LRU",
   kGlobalForm, Needs::kNothing, false, Offer::kDrive, "least-stale",
   "evict layers that already ran first"},
  {"lookahead", P, "[:w]", "w layers (3)", 3,
   "LRU that never evicts layers [cur, cur+w) (wrapping into the next token); if all are "
   "protected the miss bypasses",
   kGlobalForm, Needs::kNothing, false, Offer::kDrive, "lookahead",
   "LRU sparing the next w layers"},
  {"static-front", P, "", "", 0,
   "pin whole layers from the first while they fit",
   kGlobalForm, Needs::kNothing, false, Offer::kDrive, "static-front",
   "pin whole layers from the first"},
  {"static-back", P, "", "", 0,
   "pin whole layers from the last (what llama.cpp's `--n-cpu-moe N` leaves on the GPU)",
   kGlobalForm, Needs::kNothing, false, Offer::kDrive, "static-back",
   "pin whole layers from the last"},
  {"on-demand", P, "", "", 0,
   "nothing cached: every routed expert is loaded, used, dropped",
   kPerLayerForm, Needs::kNothing, false, Offer::kDrive, "on-demand",
   "nothing cached: load, use, drop"},
  {"mrs", P, "[:alpha]", "alpha (0.75)", 0.75,
   "HybriMoE score over the 2k most probable experts; evict min score, ties LRU",
   kBothForms, Needs::kNothing, false, Offer::kCompare, "mrs",
   "HybriMoE router-score cache"},
  {"belady-bypass", P, "", "", 0,
   "oracle: evict the farthest next use; declines to admit an expert needed later than every "
   "resident one (optimal for equal sizes). Called `belady` before; that spelling is still read "
   "(old traces, command lines) as `belady-bypass`",
   kBothForms, Needs::kFuture, false, Offer::kCompare, "belady-bypass belady-bypass-global",
   "oracle: farthest next use, may not admit (old name: belady)"},
  {"opt", P, "", "", 0,
   "oracle: demand-paging MIN (always admits); the policy of the OPT stack curve, and the bound "
   "of the suitability analysis (\"OPT (demand MIN)\")",
   kBothForms, Needs::kFuture, false, Offer::kCompare, "opt",
   "oracle: demand-paging MIN, always admits"},
  {"sch", P, "[:m]", "segment m tokens (16)", 16,
   "oracle (Liang et al.'s SCH): evict the fewest uses in the segment [t, t+m) of m tokens "
   "starting at the running token t; ties LRU",
   kBothForms, Needs::kFuture, false, Offer::kCompare, "sch sch-global",
   "oracle: fewest uses in m tokens"},
  {"stationary", P, "", "", 0,
   "oracle: pin the experts most used over the whole run",
   kBothForms, Needs::kFuture, false, Offer::kCompare, "stationary",
   "oracle: pin the most used of the whole run"},
  {"static-freq", P, "", "", 0,
   "pin the most routed experts of an earlier trace (per layer: top c_l; global: top C)",
   kBothForms, Needs::kHistory, false, Offer::kDisabled, "static-freq",
   "pin the most routed experts of a trace"},

  {"none", F, "", "", 0,
   "no prefetching",
   kNoForms, Needs::kNothing, false, Offer::kDrive, "none",
   "no prefetching"},
  {"same-prev", F, "[:d]", "", 0,
   "the target layer's experts of the previous token",
   kNoForms, Needs::kNothing, false, Offer::kDrive, "same-prev",
   "the previous token's experts"},
  {"affinity", F, "[:k'[:d]]", "", 0,
   "online counts T_l[i -> j]; top-k' of the summed rows of the current experts (chained for "
   "d > 1; the last layer links to the next token's first)",
   kNoForms, Needs::kNothing, false, Offer::kDrive, "affinity affinity:0:2",
   "inter-layer affinity, learnt online"},
  {"freq", F, "[:k'[:W[:d]]]", "", 0,
   "top-k' experts of the target layer over the last W tokens (W = 64)",
   kNoForms, Needs::kNothing, false, Offer::kDrive, "freq",
   "most used of the last W tokens"},
  {"next-gate", F, "[:d[:k']]", "", 0,
   "the engine applies layer l+d's FFN norm and router to the hidden state after layer l's "
   "attention (engine/model/router_probe.h) and supplies the top-k'; a target in the next token "
   "gets no prediction",
   kNoForms, Needs::kEngine, false, Offer::kDrive, "next-gate next-gate:2",
   "the next layer's router on the current hidden state"},
  {"affinity-fit", F, "[:k'[:d]]", "", 0,
   "the same tables as `affinity`, fitted on an earlier trace and frozen",
   kNoForms, Needs::kHistory, false, Offer::kDisabled, "affinity-fit",
   "inter-layer affinity, fitted on a trace"},
  {"path", F, "[:k'[:d]]", "", 0,
   "fitted on an earlier trace: top-1 path (two positions) -> target, backing off to "
   "first-order affinity and layer frequency",
   kNoForms, Needs::kHistory, false, Offer::kDisabled, "path",
   "top-1 path predictor, fitted on a trace"},
}};
// clang-format on

// Names of earlier MoEScope versions, read from old traces and accepted on the command line:
// "belady" was the bypassing oracle, now "belady-bypass" so that it is never confused with
// demand-paging MIN ("opt", the suitability analysis' bound).
constexpr std::array<std::pair<std::string_view, std::string_view>, 1> kOldPolicyNames{{
    {"belady", "belady-bypass"},
}};

std::string_view forms_text(Forms forms) {
  switch (forms) {
    case kPerLayerForm:
      return "per layer";
    case kGlobalForm:
      return "global";
    case kBothForms:
      return "both";
    case kNoForms:
      break;
  }
  return "";
}

std::string_view needs_text(Needs needs) {
  switch (needs) {
    case Needs::kNothing:
      return "";
    case Needs::kFuture:
      return "the recorded future (oracle)";
    case Needs::kHistory:
      return "an earlier trace";
    case Needs::kEngine:
      return "the engine's router probes";
  }
  return "";
}

}  // namespace

std::vector<std::string> RegistryEntry::gui_list() const {
  std::vector<std::string> out;
  std::string_view s = gui_spellings;
  while (!s.empty()) {
    const size_t space = s.find(' ');
    out.emplace_back(s.substr(0, space));
    s = space == std::string_view::npos ? std::string_view() : s.substr(space + 1);
  }
  return out;
}

std::span<const RegistryEntry> registry() {
  return kEntries;
}

std::vector<const RegistryEntry*> registry_entries(EntryKind kind) {
  std::vector<const RegistryEntry*> out;
  for (const RegistryEntry& e : kEntries)
    if (e.kind == kind) out.push_back(&e);
  return out;
}

const RegistryEntry* find_entry(EntryKind kind, std::string_view name) {
  if (kind == EntryKind::kPolicy) {
    for (const auto& [old_name, new_name] : kOldPolicyNames)
      if (name == old_name) name = new_name;
  }
  for (const RegistryEntry& e : kEntries)
    if (e.kind == kind && e.name == name) return &e;
  return nullptr;
}

std::string registry_names(EntryKind kind) {
  std::string s;
  for (const RegistryEntry* e : registry_entries(kind))
    s += (s.empty() ? "" : ", ") + std::string(e->name);
  return s;
}

std::vector<std::string> registry_help(EntryKind kind) {
  std::vector<std::string> lines;
  for (const RegistryEntry* e : registry_entries(kind)) {
    std::string note;
    if (e->forms == kBothForms) note = " (also -global)";
    if (e->forms == kGlobalForm) note = " (global)";
    if (e->needs == Needs::kHistory) note += " (needs an earlier trace)";
    lines.push_back(fmt::format("{:<22} {}{}", e->spelling(), e->summary, note));
  }
  return lines;
}

std::string registry_markdown(EntryKind kind) {
  const bool policies = kind == EntryKind::kPolicy;
  std::string out = policies ? "| spelling | forms | parameter (default) | needs | rule |\n"
                               "|---|---|---|---|---|\n"
                             : "| spelling | needs | rule |\n"
                               "|---|---|---|\n";
  for (const RegistryEntry* e : registry_entries(kind)) {
    if (policies) {
      out += fmt::format("| `{}` | {} | {} | {} | {} |\n", e->spelling(), forms_text(e->forms),
                         e->param_help, needs_text(e->needs), e->rule);
    } else {
      out += fmt::format("| `{}` | {} | {} |\n", e->spelling(), needs_text(e->needs), e->rule);
    }
  }
  return out;
}

}  // namespace moescope::policy
