#pragma once
// Interface languages. The translations are compiled from translations/*.ts at build time and
// embedded under :/i18n/. The language comes from --lang, else the saved choice, else the system
// locale; English (the source language) needs no translation.
#include <QString>
#include <QStringList>

namespace moescope::gui {

// Codes with a translation, plus "en".
QStringList available_languages();
// The language to use for a requested code ("de", "zh_CN", "system" or empty for the locale).
QString resolve_language(const QString& requested);
// Installs the application's (and Qt's own, where installed) translation for `language`,
// replacing the previous one; "en" removes them. False when the translation is missing.
bool install_language(const QString& language);
// The language's own name ("Deutsch", "中文（简体）").
QString language_native_name(const QString& language);

}  // namespace moescope::gui
