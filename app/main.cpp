// moescope: a CLI subcommand when one is given, otherwise the GUI when a display is available.
#include <QCoreApplication>
#include <QGuiApplication>
#include <QStringList>

#include <cstdio>
#include <memory>

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
  // A command that paints (report: PDF fonts) runs under a QGuiApplication, always on the
  // offscreen platform: it never opens a window, so it needs no display.
  const auto* early = moescope::cli::find_command(argv[1]);
  std::unique_ptr<QCoreApplication> app;
  if (early && early->gui_application) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    // ... where Qt's warning about a missing XDG_RUNTIME_DIR would break one-line errors.
    static const QtMessageHandler previous = qInstallMessageHandler(
        [](QtMsgType type, const QMessageLogContext& context, const QString& message) {
          if (message.startsWith("QStandardPaths: XDG_RUNTIME_DIR")) return;
          if (previous) previous(type, context, message);
        });
    app = std::make_unique<QGuiApplication>(argc, argv);
  } else {
    app = std::make_unique<QCoreApplication>(argc, argv);
  }
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
    moescope::cli::print_error(
        QString("unknown command '%1' (run 'moescope --help')").arg(args[1]));
    return moescope::cli::kUsage;
  }
  QStringList command_args = args.mid(2);
  command_args.prepend(QString("moescope %1").arg(args[1]));
  return command->run(command_args);
}
