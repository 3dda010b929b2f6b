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

// The same for a real number from min to max.
bool parse_real(const QCommandLineParser& parser, const QString& name, double min, double max,
                double& value, QString& error);

// A text file (or pipe) read whole. The size limit keeps a mistaken path (a model, a disk image,
// a pipe that never ends) from exhausting memory: at most max_bytes + 1 bytes are ever read.
// Directories, devices and sockets are refused; `command` names who refuses. Throws
// moescope::Error.
std::string read_text_file(const QString& path, const char* command,
                           qint64 max_bytes = qint64(64) << 20);

}  // namespace moescope::cli
