#pragma once
// The model every command (and the GUI) uses when none is named: MoEScope's built-in
// moescope-default-q8_0.gguf. Looked for in this order:
//  1. $MOESCOPE_MODEL, when set and not empty: that file and nothing else, so an explicit choice
//     never silently falls back to another model;
//  2. beside the binary: <bindir>/../share/moescope/models/ (installed), then
//     <bindir>/../resources/models/ (a build or bundle tree);
//  3. the source tree the binary was built from: <source>/resources/models/.
#include <QCommandLineParser>
#include <QString>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace moescope::cli {

inline constexpr const char* kDefaultModelFile = "moescope-default-q8_0.gguf";
inline constexpr const char* kModelEnvVar = "MOESCOPE_MODEL";

// Where to look; find_default_model() fills it for the running process.
struct ModelSearch {
  std::optional<std::string> env;    // $MOESCOPE_MODEL; nullopt when unset or empty
  std::filesystem::path bin_dir;     // directory of the running binary (empty: unknown)
  std::filesystem::path source_dir;  // source tree baked in at compile time (empty: none)
};

ModelSearch current_model_search();

// The candidate files, in search order.
std::vector<std::filesystem::path> default_model_candidates(const ModelSearch& search);

// The first candidate that is a regular file. Throws moescope::Error, one line naming every place
// it looked, when there is none.
std::filesystem::path find_default_model(const ModelSearch& search);
std::filesystem::path find_default_model();

// The value of the parser's --model option (or `option`) when set, else the default model.
// Throws moescope::Error when it is not set and no default model is found.
QString model_path_or_default(const QCommandLineParser& parser, const QString& option = "model");

}  // namespace moescope::cli
