#pragma once
// Every cache policy and prefetcher by name, once: how it is spelled, its parameters, what it
// does, and what it needs. parse_policy_spec reads its policy entries; the GUI's lists
// (views/settings/policy_choices), the CLI's help (`moescope policies`, the --policy and
// --prefetch option texts) and the tables of docs/policies-cli.md are derived from it
// (registry_markdown; a test keeps the document equal to it). A new policy or prefetcher is one
// entry here and one branch in make_policy / make_prefetcher.
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace moescope::policy {

enum class EntryKind : uint8_t { kPolicy, kPrefetcher };

// Policies: the per-layer form (the bare name: one partition of c_l slots per MoE layer) and/or
// the global form (NAME-global: one pool shared by all layers). Prefetchers have no forms.
enum Forms : uint8_t { kNoForms = 0, kPerLayerForm = 1, kGlobalForm = 2, kBothForms = 3 };

enum class Needs : uint8_t {
  kNothing,
  kFuture,   // an oracle: reads the recorded access stream (replay, or a second pass)
  kHistory,  // fitted on an earlier routing trace
  kEngine,   // predictions the engine computes during the forward pass (router probes)
};

// Where the GUI's settings panel offers an entry (views/settings/policy_choices).
enum class Offer : uint8_t {
  kDrive,     // may drive a live run (and, a policy, be compared)
  kCompare,   // a policy offered only beside the driving one (replayed on the same stream)
  kDisabled,  // listed, but disabled: needs an earlier trace the window does not have
  kHidden,    // not offered
};

struct RegistryEntry {
  std::string_view name;
  EntryKind kind;
  std::string_view params;      // optional parameters as spelled after the name, e.g. "[:gamma]"
  std::string_view param_help;  // policies: what the parameter is, and its default
  double param_default;         // policies: the parameter's default (when params is not empty)
  std::string_view rule;        // what it does (one markdown line)
  Forms forms;
  Needs needs;
  // Changes what the model computes. Policies and prefetchers only move experts, so every entry
  // is exact; the lossy gating variants are flags (docs/policies-cli.md, --adaptive-topk).
  bool lossy;
  Offer offer;
  std::string_view gui_spellings;  // the spellings the GUI lists, space-separated
  std::string_view summary;        // one short line for --help and tooltips

  bool oracle() const { return needs == Needs::kFuture; }
  // "lfu[:gamma]", "affinity[:k'[:d]]"
  std::string spelling() const { return std::string(name) + std::string(params); }
  std::vector<std::string> gui_list() const;
};

std::span<const RegistryEntry> registry();
std::vector<const RegistryEntry*> registry_entries(EntryKind kind);
// The entry of a name (old names of policies accepted), or null.
const RegistryEntry* find_entry(EntryKind kind, std::string_view name);
// "a, b, c": the names of a kind, in registry order.
std::string registry_names(EntryKind kind);

// One line per entry, spelling and summary (the CLI's `moescope policies`).
std::vector<std::string> registry_help(EntryKind kind);
// The markdown table of a kind as docs/policies-cli.md shows it.
std::string registry_markdown(EntryKind kind);

}  // namespace moescope::policy
