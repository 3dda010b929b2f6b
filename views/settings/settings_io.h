#pragma once
// Run settings in QSettings (group "run"), so the next start uses the last choices.
#include <QSettings>

#include "views/session/run_settings.h"

namespace moescope::views {

void save_run_settings(QSettings& settings, const RunSettings& run);
// Missing keys keep the values of `defaults`; out-of-range values are clamped.
RunSettings load_run_settings(const QSettings& settings, const RunSettings& defaults = {});

}  // namespace moescope::views
