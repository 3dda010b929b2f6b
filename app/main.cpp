// moescope: a CLI subcommand when one is given, otherwise the GUI when a display is available.
#include <QCoreApplication>
#include <QStringList>

#include <cstdio>

#include "app/cli/command.h"
#include "app/gui/gui_main.h"

namespace {

void print_usage() {
  std::printf("Usage: moescope COMMAND [OPTIONS]\n\nCommands:\n");
  for (const auto& command : moescope::cli::commands()) {
    std::printf("  %-14s %s\n", command.name, command.summary);
  }
  std::printf("\nRun 'moescope COMMAND --help' for the options of a command.\n");
  std::printf(
      "\nWithout a command, moescope opens the desktop app (a display is needed):\n"
      "  moescope [--lang en|de|zh_CN] [--model FILE.gguf] [TRACE.sqlite]\n");
}

// The desktop app takes no subcommand: nothing, its own options, or a file to open.
bool gui_invocation(int argc, char** argv) {
  if (argc < 2) return true;
  const QString first = QString::fromLocal8Bit(argv[1]);
  for (const char* option : {"--lang", "--model", "--screenshots"}) {
    if (first == option || first.startsWith(QString(option) + "=")) return true;
  }
  return first.endsWith(".sqlite") || first.endsWith(".gguf");
}

}  // namespace

int main(int argc, char** argv) {
  if (gui_invocation(argc, argv)) {
    if (moescope::gui::display_available()) return moescope::gui::run_gui(argc, argv);
    print_usage();
    return moescope::cli::kUsage;
  }
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
