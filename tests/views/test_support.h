#pragma once
// Shared helpers of the GUI tests: reference files and waiting for the session controller.
#include <QJsonDocument>
#include <QString>

#include "views/session/session_controller.h"

namespace moescope::views::test {

// A reference model from the shared folder, e.g. "llama-moe-f32".
QString reference_model(const QString& name);
QJsonDocument read_json(const QString& path);
// Opens a model and waits until it is loaded; false on failure or timeout.
bool load_model(SessionController& session, const QString& path, int timeout_ms = 30000);
// Generates with the session's settings and waits for the run to end (finished or failed).
bool generate_and_wait(SessionController& session, int timeout_ms = 60000);
// Waits until the run's cache analysis covers every routed token; false on timeout.
bool wait_analysis(SessionController& session, int timeout_ms = 30000);
// Opens run `run` of a trace file and waits until it is open (up to timeout_ms) and its cache
// analysis covers every token; false on failure or timeout.
bool open_trace(SessionController& session, const QString& path, qint64 run,
                int timeout_ms = 20000);
// Small, quick settings: greedy, n tokens, offloading at a quarter of the experts.
RunSettings quick_settings(const QString& prompt, int n_tokens);

}  // namespace moescope::views::test
