#include "storage/import/line_reader.h"

#include <cerrno>
#include <cstring>

#include "engine/common/error.h"

namespace moescope::storage::import {

LineReader::LineReader(const std::filesystem::path& path, size_t max_line_bytes)
    : path_(path.string()), max_(max_line_bytes) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (file_ == nullptr) fail("cannot open {}: {}", path_, std::strerror(errno));
}

LineReader::~LineReader() {
  if (file_ != nullptr) std::fclose(file_);
}

bool LineReader::next(std::string& line) {
  line.clear();
  char buf[1 << 16];
  bool any = false;
  while (std::fgets(buf, sizeof buf, file_) != nullptr) {
    any = true;
    const size_t n = std::strlen(buf);
    line.append(buf, n);
    if (line.size() > max_ + 1)
      fail("{}: line {} is longer than {} MiB", path_, line_ + 1, max_ >> 20);
    if (n > 0 && buf[n - 1] == '\n') break;
  }
  if (std::ferror(file_)) fail("cannot read {}: {}", path_, std::strerror(errno));
  if (!any) return false;
  ++line_;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return true;
}

}  // namespace moescope::storage::import
