#pragma once
// The capacity-aware gating flags batch and perplexity share: --capacity G [--expand M]
// [--capacity-devices D] (engine/batching/capacity_gating.h), with their help texts.
#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QList>
#include <QString>
#include <optional>

#include "engine/batching/capacity_gating.h"

namespace moescope::cli {

// The three options; `per_what` says what T is in the help ("step", "forward call ...").
QList<QCommandLineOption> capacity_options(const QString& per_what);

// The flags as options (nullopt without --capacity). False, with `error` naming the flag, for a
// value out of range or --expand / --capacity-devices without --capacity.
bool read_capacity_options(const QCommandLineParser& parser,
                           std::optional<batching::CapacityOptions>& out, QString& error);

}  // namespace moescope::cli
