#include "app/cli/default_model.h"

#include <cstdlib>
#include <system_error>

#include "engine/common/error.h"

namespace moescope::cli {
namespace fs = std::filesystem;

namespace {

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

}  // namespace

ModelSearch current_model_search() {
  ModelSearch search;
  if (const char* env = std::getenv(kModelEnvVar); env != nullptr && *env != '\0') search.env = env;
  // /proc/self/exe rather than argv[0]: it is right however the binary was started.
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) search.bin_dir = exe.parent_path();
#ifdef MOESCOPE_SOURCE_DIR
  search.source_dir = MOESCOPE_SOURCE_DIR;
#endif
  return search;
}

std::vector<fs::path> default_model_candidates(const ModelSearch& search) {
  if (search.env) return {fs::path(*search.env)};
  std::vector<fs::path> out;
  if (!search.bin_dir.empty()) {
    out.push_back((search.bin_dir / ".." / "share" / "moescope" / "models" / kDefaultModelFile)
                      .lexically_normal());
    out.push_back(
        (search.bin_dir / ".." / "resources" / "models" / kDefaultModelFile).lexically_normal());
  }
  if (!search.source_dir.empty()) {
    out.push_back(
        (search.source_dir / "resources" / "models" / kDefaultModelFile).lexically_normal());
  }
  return out;
}

fs::path find_default_model(const ModelSearch& search) {
  const std::vector<fs::path> candidates = default_model_candidates(search);
  for (const fs::path& p : candidates) {
    if (is_file(p)) return p;
  }
  if (search.env) {
    fail("${} is set to {}, which is not a model file (unset it to use the default model)",
         kModelEnvVar, *search.env);
  }
  std::string looked;
  for (const fs::path& p : candidates) looked += (looked.empty() ? "" : ", ") + p.string();
  fail(
      "no --model given and the default model {} was not found (looked in: {}); pass --model or "
      "set ${}",
      kDefaultModelFile, looked.empty() ? std::string("nowhere") : looked, kModelEnvVar);
}

fs::path find_default_model() {
  return find_default_model(current_model_search());
}

QString model_path_or_default(const QCommandLineParser& parser, const QString& option) {
  if (parser.isSet(option)) return parser.value(option);
  return QString::fromStdString(find_default_model().string());
}

}  // namespace moescope::cli
