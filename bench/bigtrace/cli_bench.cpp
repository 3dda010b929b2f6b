// The CLI commands of a big-trace workflow (import, placement, report) without the desktop app
// linked in: `bench_bigtrace_cli COMMAND ARGS...` runs `moescope COMMAND ARGS...` in-process, so
// that /usr/bin/time -v measures the command's wall time and peak RSS alone (docs/suitability.md,
// "Big traces"). Commands that paint (report) run under an offscreen QGuiApplication, as in
// app/main.cpp.
#include <QCoreApplication>
#include <QGuiApplication>
#include <QStringList>

#include <cstdio>
#include <memory>

#include "app/cli/command.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_bigtrace_cli COMMAND [ARGS...]\n");
    return 2;
  }
  const auto* command = moescope::cli::find_command(argv[1]);
  if (!command) {
    std::fprintf(stderr, "unknown command '%s'\n", argv[1]);
    return 2;
  }
  std::unique_ptr<QCoreApplication> app;
  if (command->gui_application) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    app = std::make_unique<QGuiApplication>(argc, argv);
  } else {
    app = std::make_unique<QCoreApplication>(argc, argv);
  }
  QCoreApplication::setApplicationName("moescope");
  QStringList args = QCoreApplication::arguments().mid(2);
  args.prepend(QString("moescope %1").arg(argv[1]));
  return command->run(args);
}
