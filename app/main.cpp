// moescope: a CLI subcommand when one is given, otherwise the GUI when a display is available.
#include <QCoreApplication>
#include <QStringList>

#include <cstdio>

#include "app/cli/command.h"

namespace {

void print_usage() {
  std::printf("Usage: moescope COMMAND [OPTIONS]\n\nCommands:\n");
  for (const auto& command : moescope::cli::commands()) {
    std::printf("  %-12s %s\n", command.name, command.summary);
  }
  std::printf("\nRun 'moescope COMMAND --help' for the options of a command.\n");
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  QCoreApplication::setApplicationName("moescope");
  QCoreApplication::setApplicationVersion(MOESCOPE_VERSION);
  const QStringList args = QCoreApplication::arguments();
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
    print_usage();
    return args.size() < 2 ? moescope::cli::kUsage : moescope::cli::kSuccess;
  }
  if (args[1] == "--version") {
    std::printf("moescope %s\n", MOESCOPE_VERSION);
    return moescope::cli::kSuccess;
  }
  const auto name = args[1].toStdString();
  const auto* command = moescope::cli::find_command(name);
  if (!command) {
    moescope::cli::print_error(QString("unknown command '%1' (run 'moescope --help')").arg(args[1]));
    return moescope::cli::kUsage;
  }
  QStringList command_args = args.mid(2);
  command_args.prepend(QString("moescope %1").arg(args[1]));
  return command->run(command_args);
}
