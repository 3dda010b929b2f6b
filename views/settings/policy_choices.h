#pragma once
// The policies, prefetchers, links and allocators the settings panel offers, spelled as
// engine/policy parses them (docs/policies-cli.md). Policies and prefetchers come from the
// registry (engine/policy/registry.h): an entry's GUI spellings, where its Offer says.
#include <QStringList>

namespace moescope::views {

// Online policies that can drive the real cache.
QStringList live_policies();
// Everything that can be replayed beside it, oracles included.
QStringList comparable_policies();
bool is_oracle_policy(const QString& spec);
// Prefetchers that learn online (or ask the engine: next-gate) and so can drive a live run.
QStringList prefetcher_choices();
// Prefetchers the expert store supports that must be fitted on an earlier trace first
// (affinity-fit, the ExpertFlow-style path predictor): offered, but disabled in the window.
QStringList fitted_prefetchers();
// Live-capable policies that need an earlier trace (static-freq): offered disabled.
QStringList history_policies();
// The registry's one-line summary of a policy or prefetcher spelling ("lfu-global:0.9" -> lfu's),
// or empty for a name it does not know.
QString registry_summary(const QString& name);
QStringList link_choices();
// Allocators that need no earlier trace.
QStringList allocator_choices();

}  // namespace moescope::views
