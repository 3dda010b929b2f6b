#include "app/gui/gui_main.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QSettings>

#include <cstdio>
#include <cstdlib>

#include "app/gui/i18n.h"
#include "app/gui/main_window.h"
#include "app/gui/screenshot_tour.h"

namespace moescope::gui {

bool display_available() {
  for (const char* var : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}) {
    const char* value = std::getenv(var);
    if (value != nullptr && *value != '\0') return true;
  }
  return false;
}

int run_gui(int argc, char** argv) {
  QApplication::setHighDpiScaleFactorRoundingPolicy(
      Qt::HighDpiScaleFactorRoundingPolicy::PassThrough);
  QApplication app(argc, argv);
  QCoreApplication::setOrganizationName("MoEScope");
  QCoreApplication::setApplicationName("moescope");
#ifdef MOESCOPE_VERSION
  QCoreApplication::setApplicationVersion(MOESCOPE_VERSION);
#endif
  QGuiApplication::setDesktopFileName("moescope");

  QCommandLineParser parser;
  parser.setApplicationDescription("MoEScope: a profiler for mixture-of-experts inference.");
  parser.addHelpOption();
  parser.addOptions({
      {"lang", "Interface language: en, de, zh_CN (default: the saved choice, else the system's).",
       "L"},
      {"model", "GGUF model to open (default: the built-in model).", "FILE"},
      {"screenshots", "Generate once, save a screenshot of each view into DIR, and quit.", "DIR"},
  });
  parser.addPositionalArgument("trace", "A recorded trace (.sqlite) to open.", "[TRACE.sqlite]");
  if (!parser.parse(QCoreApplication::arguments())) {
    std::fprintf(stderr, "moescope: %s\n", parser.errorText().toUtf8().constData());
    return 2;
  }
  if (parser.isSet("help")) {
    std::fputs(parser.helpText().toUtf8().constData(), stdout);
    return 0;
  }

  QSettings settings;
  const QString requested =
      parser.isSet("lang") ? parser.value("lang") : settings.value("language").toString();
  const QString language = resolve_language(requested);
  if (language.isEmpty()) {
    std::fprintf(stderr, "moescope: --lang '%s' is not one of %s\n", requested.toUtf8().constData(),
                 available_languages().join(", ").toUtf8().constData());
    return 2;
  }

  QString model = parser.value("model");
  QString trace;
  for (const QString& file : parser.positionalArguments()) {
    if (file.endsWith(".gguf", Qt::CaseInsensitive)) {
      if (model.isEmpty()) model = file;
    } else if (trace.isEmpty()) {
      trace = file;
    }
  }

  MainWindow window;
  window.setLanguage(language);
  window.show();
  window.openStartModel(model);
  if (!trace.isEmpty()) window.openTrace(trace);
  if (parser.isSet("screenshots")) {
    auto* tour = new ScreenshotTour(&window, parser.value("screenshots"), &window);
    tour->start();
  }
  return app.exec();
}

}  // namespace moescope::gui
