#pragma once
// Entry points of the CLI subcommands; each lives in its own *_command.cpp.
#include <QStringList>

namespace moescope::cli {

int run_inspect(const QStringList& args);

}  // namespace moescope::cli
