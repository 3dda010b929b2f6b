#include "app/gui/i18n.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

#include <memory>

namespace moescope::gui {
namespace {

std::unique_ptr<QTranslator>& app_translator() {
  static std::unique_ptr<QTranslator> t;
  return t;
}

std::unique_ptr<QTranslator>& qt_translator() {
  static std::unique_ptr<QTranslator> t;
  return t;
}

}  // namespace

QStringList available_languages() {
  return {"en", "de", "zh_CN"};
}

QString resolve_language(const QString& requested) {
  if (!requested.isEmpty() && requested != "system") {
    for (const QString& lang : available_languages()) {
      if (requested.compare(lang, Qt::CaseInsensitive) == 0) return lang;
    }
    // "de_AT" -> "de", "zh" -> "zh_CN"
    const QString prefix = requested.section('_', 0, 0).section('-', 0, 0).toLower();
    if (prefix == "de") return "de";
    if (prefix == "zh") return "zh_CN";
    if (prefix == "en") return "en";
    return {};
  }
  for (const QString& ui : QLocale::system().uiLanguages()) {
    const QString lang = resolve_language(QString(ui).replace('-', '_'));
    if (!lang.isEmpty()) return lang;
  }
  return "en";
}

bool install_language(const QString& language) {
  for (auto* slot : {&app_translator(), &qt_translator()}) {
    if (*slot) {
      QCoreApplication::removeTranslator(slot->get());
      slot->reset();
    }
  }
  if (language == "en" || language.isEmpty()) return language == "en";
  auto app = std::make_unique<QTranslator>();
  if (!app->load(QStringLiteral(":/i18n/moescope_%1.qm").arg(language))) return false;
  QCoreApplication::installTranslator(app.get());
  app_translator() = std::move(app);
  // Qt's own strings (standard dialogs, buttons) when the system has them.
  auto qt = std::make_unique<QTranslator>();
  if (qt->load(QStringLiteral("qtbase_%1").arg(language),
               QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
    QCoreApplication::installTranslator(qt.get());
    qt_translator() = std::move(qt);
  }
  return true;
}

QString language_native_name(const QString& language) {
  if (language == "de") return QStringLiteral("Deutsch");
  if (language == "zh_CN") return QStringLiteral("中文（简体）");
  return QStringLiteral("English");
}

}  // namespace moescope::gui
