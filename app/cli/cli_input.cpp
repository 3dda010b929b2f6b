#include "app/cli/cli_input.h"

#include <QFile>

#include "engine/common/error.h"

namespace moescope::cli {

bool parse_int(const QCommandLineParser& parser, const QString& name, int min, int max, int& value,
               QString& error) {
  if (!parser.isSet(name)) return true;
  bool ok = false;
  const QString text = parser.value(name);
  const long long v = text.toLongLong(&ok);
  if (!ok || v < min || v > max) {
    error = QString("%1%2 expects a whole number from %3 to %4, got '%5'")
                .arg(name.size() == 1 ? "-" : "--", name)
                .arg(min)
                .arg(max)
                .arg(text);
    return false;
  }
  value = static_cast<int>(v);
  return true;
}

std::string read_text_file(const QString& path, const char* command, qint64 max_bytes) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    fail("cannot read {}: {}", path.toStdString(), file.errorString().toStdString());
  }
  if (file.size() > max_bytes) {
    fail("{} is {} bytes; {} reads at most {} bytes of text", path.toStdString(), file.size(),
         command, max_bytes);
  }
  const QByteArray bytes = file.readAll();
  return std::string(bytes.constData(), static_cast<size_t>(bytes.size()));
}

}  // namespace moescope::cli
