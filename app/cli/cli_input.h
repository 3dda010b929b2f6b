#pragma once
// Reading what the user hands a command: number flags and text files.
#include <QCommandLineParser>
#include <QString>

#include <cmath>
#include <string>
#include <type_traits>

namespace moescope::cli {

// Reads flag `name` (when set) into `value`, a whole number for integral T. On a bad or
// out-of-range value returns false and sets `error` to one line naming the flag ("-n" for
// one-letter flags, "--ctx" otherwise).
template <typename T>
bool parse_number(const QCommandLineParser& parser, const QString& name, T min, T max, T& value,
                  QString& error) {
  if (!parser.isSet(name)) return true;
  const QString text = parser.value(name);
  bool ok = false;
  const double v = text.toDouble(&ok);
  if (!ok || !std::isfinite(v) || v < min || v > max ||
      (std::is_integral_v<T> && v != std::floor(v))) {
    error = QString("%1%2 expects a %3 from %4 to %5, got '%6'")
                .arg(name.size() == 1 ? "-" : "--", name,
                     std::is_integral_v<T> ? "whole number" : "number")
                .arg(min)
                .arg(max)
                .arg(text);
    return false;
  }
  value = static_cast<T>(v);
  return true;
}

inline bool parse_int(const QCommandLineParser& parser, const QString& name, int min, int max,
                      int& value, QString& error) {
  return parse_number(parser, name, min, max, value, error);
}

// A text file (or pipe) read whole. The size limit keeps a mistaken path (a model, a disk image,
// a pipe that never ends) from exhausting memory: at most max_bytes + 1 bytes are ever read.
// Directories, devices and sockets are refused; `command` names who refuses. Throws
// moescope::Error.
std::string read_text_file(const QString& path, const char* command,
                           qint64 max_bytes = qint64(64) << 20);

}  // namespace moescope::cli
