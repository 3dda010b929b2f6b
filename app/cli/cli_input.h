#pragma once
// Reading what the user hands a command: whole-number flags and text files.
#include <QCommandLineParser>
#include <QString>

#include <string>

namespace moescope::cli {

// Reads flag `name` (when set) into `value`. On a bad or out-of-range value returns false and
// sets `error` to one line naming the flag ("-n" for one-letter flags, "--ctx" otherwise).
bool parse_int(const QCommandLineParser& parser, const QString& name, int min, int max, int& value,
               QString& error);

// A text file read whole. The size limit keeps a mistaken path (a model, a disk image) from
// exhausting memory; `command` names who refuses it. Throws moescope::Error.
std::string read_text_file(const QString& path, const char* command,
                           qint64 max_bytes = qint64(1) << 30);

}  // namespace moescope::cli
