#pragma once
// A CLI subcommand: `moescope NAME ...`. Each command parses its own arguments with
// QCommandLineParser and returns a process exit code (see ExitCode).
#include <QStringList>

#include <functional>
#include <string_view>
#include <vector>

namespace moescope::cli {

enum ExitCode : int { kSuccess = 0, kFailure = 1, kUsage = 2 };

struct Command {
  const char* name;
  const char* summary;
  // args[0] is "moescope NAME" so that QCommandLineParser prints sensible usage lines.
  std::function<int(const QStringList& args)> run;
};

const std::vector<Command>& commands();
const Command* find_command(std::string_view name);

// Prints "moescope: MESSAGE" on stderr as one line.
void print_error(const QString& message);

}  // namespace moescope::cli
