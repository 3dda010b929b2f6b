#include "engine/common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "engine/common/error.h"

namespace moescope {

namespace fs = std::filesystem;

AtomicFile::AtomicFile(fs::path destination) : destination_(std::move(destination)) {
  if (destination_.empty()) fail("no output path given");
  std::error_code ec;
  if (fs::is_directory(destination_, ec)) fail("{}: is a directory", destination_.string());
  fs::path dir = destination_.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) {
    fail("{}: cannot write: directory {} does not exist", destination_.string(), dir.string());
  }
  // mkstemp makes a unique name (no two writers collide) and proves the directory is writable.
  std::string name = ".";
  name += destination_.filename().string();
  name += ".XXXXXX";
  std::string pattern = (dir / name).string();
  fd_ = mkostemp(pattern.data(), O_CLOEXEC);
  if (fd_ < 0) fail_errno();
  temporary_ = pattern;
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (committed_) return;
  std::error_code ec;
  fs::remove(temporary_, ec);
}

void AtomicFile::fail_errno() const {
  fail("{}: cannot write: {}", destination_.string(), std::strerror(errno));
}

void AtomicFile::write_at(const void* data, size_t size, uint64_t offset) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::pwrite(fd_, p, size, off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno();
    if (n == 0) {
      errno = ENOSPC;
      fail_errno();
    }
    p += n;
    size -= size_t(n);
    offset += uint64_t(n);
  }
}

void AtomicFile::write(const void* data, size_t size) {
  write_at(data, size, end_);
  end_ += size;
}

void AtomicFile::commit() {
  // mkstemp creates 0600; an output file gets the usual permissions (umask applies).
  const mode_t mask = umask(0);
  umask(mask);
  if (::fchmod(fd_, 0666 & ~mask) != 0) fail_errno();
  // A file that was not flushed could be renamed over the old one and then lost in a crash; a
  // delayed write error (a full disk, quota) shows up here or at close.
  if (::fsync(fd_) != 0) fail_errno();
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail_errno();
  std::error_code ec;
  fs::rename(temporary_, destination_, ec);
  if (ec) fail("{}: cannot write: {}", destination_.string(), ec.message());
  committed_ = true;
}

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  AtomicFile out(path);
  out.write(bytes);
  out.commit();
}

}  // namespace moescope
