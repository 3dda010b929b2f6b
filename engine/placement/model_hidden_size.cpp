#include "engine/placement/model_hidden_size.h"

#include <system_error>

#include "engine/gguf/gguf_file.h"

namespace moescope::placement {

std::optional<int64_t> model_hidden_size(const std::filesystem::path& path) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  try {
    const gguf::GgufFile file = gguf::GgufFile::open(path);
    const std::optional<std::string> arch = file.get_string("general.architecture");
    if (!arch) return std::nullopt;
    const std::optional<int64_t> n = file.get_int(*arch + ".embedding_length");
    if (n && *n > 0 && *n <= (int64_t(1) << 24)) return n;
  } catch (...) {
    // An unreadable or foreign file: the caller falls back to --hidden's default.
  }
  return std::nullopt;
}

}  // namespace moescope::placement
