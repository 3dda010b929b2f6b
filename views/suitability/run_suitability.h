#pragma once
// The offloading suitability of a run (engine/policy/suitability.h) as the app judges it: on the
// run's emulated link, nvme when it has none (on an unpaced link h* would always be 0), with the
// run's measured layer compute when its trace carries compute_ns.
#include <QString>

#include <memory>

#include "engine/policy/routing_trace.h"
#include "engine/policy/suitability.h"

namespace moescope::views {

// `trace` must be validated. Null when the trace has no tokens or the engine rejects it.
std::shared_ptr<const policy::Suitability> run_suitability(const policy::RoutingTrace& trace,
                                                           const QString& link);

}  // namespace moescope::views
