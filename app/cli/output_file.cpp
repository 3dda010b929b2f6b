#include "app/cli/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <system_error>

#include "engine/common/error.h"

namespace moescope::cli {

namespace fs = std::filesystem;

OutputFile::OutputFile(fs::path destination) : destination_(std::move(destination)) {
  if (destination_.empty()) fail("no output path given");
  std::error_code ec;
  if (fs::is_directory(destination_, ec)) fail("{}: is a directory", destination_.string());
  fs::path dir = destination_.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) {
    fail("{}: cannot write: directory {} does not exist", destination_.string(), dir.string());
  }
  // mkstemp makes a unique name and proves the directory is writable.
  std::string name = ".";
  name += destination_.filename().string();
  name += ".XXXXXX";
  std::string pattern = (dir / name).string();
  const int fd = mkstemp(pattern.data());
  if (fd < 0) fail("{}: cannot write: {}", destination_.string(), std::strerror(errno));
  close(fd);
  temporary_ = pattern;
}

OutputFile::~OutputFile() {
  if (committed_) return;
  std::error_code ec;
  fs::remove(temporary_, ec);
}

void OutputFile::commit() {
  // mkstemp creates 0600; an output file gets the usual permissions (umask applies).
  const mode_t mask = umask(0);
  umask(mask);
  ::chmod(temporary_.c_str(), 0666 & ~mask);
  std::error_code ec;
  fs::rename(temporary_, destination_, ec);
  if (ec) fail("{}: cannot write: {}", destination_.string(), ec.message());
  committed_ = true;
}

void write_file_atomically(const fs::path& path, const std::string& bytes) {
  OutputFile out(path);
  {
    std::ofstream f(out.temporary(), std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), std::streamsize(bytes.size()));
    f.flush();
    if (!f) fail("{}: cannot write: {}", path.string(), std::strerror(errno));
  }
  out.commit();
}

}  // namespace moescope::cli
