#pragma once
// The policies, prefetchers, links and allocators the settings panel offers, spelled as
// engine/policy parses them (docs/policies-cli.md).
#include <QStringList>

namespace moescope::views {

// Online policies that can drive the real cache.
QStringList live_policies();
// Everything that can be replayed beside it, oracles included.
QStringList comparable_policies();
bool is_oracle_policy(const QString& spec);
QStringList prefetcher_choices();
QStringList link_choices();
// Allocators that need no earlier trace.
QStringList allocator_choices();

}  // namespace moescope::views
