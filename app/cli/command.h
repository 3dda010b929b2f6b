#pragma once
// A CLI subcommand: `moescope NAME ...`. Each command parses its own arguments with
// QCommandLineParser and returns a process exit code (see ExitCode).
#include <QCommandLineParser>
#include <QStringList>

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace moescope::cli {

enum ExitCode : int { kSuccess = 0, kFailure = 1, kUsage = 2 };

struct Command {
  const char* name;
  const char* summary;
  // args[0] is "moescope NAME" so that QCommandLineParser prints sensible usage lines.
  std::function<int(const QStringList& args)> run;
  // Runs under a QGuiApplication on the offscreen platform (fonts, painting) instead of a
  // QCoreApplication.
  bool gui_application = false;
};

const std::vector<Command>& commands();
const Command* find_command(std::string_view name);

// Prints "moescope: MESSAGE" on stderr as one line.
// Prints "moescope: MESSAGE" as one printable line on stderr (printable_message: escaped,
// long echoed arguments shortened). Raw bytes (e.what()) go through the std::string_view form.
void print_error(std::string_view message);
void print_error(const char* message);
void print_error(const QString& message);

// Parses a command's arguments (args[0] = "moescope NAME"). Returns an exit code when the command
// is finished already: kUsage after a parse error (reported as one line), kSuccess after --help.
// Returns nullopt when the command should go on.
std::optional<int> parse_command_line(QCommandLineParser& parser, const QStringList& args);

}  // namespace moescope::cli
