#include "app/cli/cli_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/common/error.h"

namespace moescope::cli {

std::string read_text_file(const QString& path, const char* command, qint64 max_bytes) {
  const std::string name = path.toLocal8Bit().toStdString();
  // O_NONBLOCK: opening a FIFO without a writer must not hang (it reads as empty then).
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail("cannot read {}: {}", name, std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("cannot read {}: {}", name, std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail("{} is a directory, not a text file", name);
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) fail("{} is a device, not a text file", name);
  if (S_ISSOCK(st.st_mode)) fail("{} is a socket, not a text file", name);
  if (st.st_size > max_bytes) {
    fail("{} is {} bytes; {} reads at most {} bytes of text", name, st.st_size, command, max_bytes);
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);  // a pipe's writer may be slow
  // Never trust the size (pipes, /proc files report 0): read at most one byte past the limit.
  std::string text;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot read {}: {}", name, std::strerror(errno));
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (static_cast<qint64>(text.size()) > max_bytes) {
      fail("{} holds more than {} bytes; {} reads at most {} bytes of text", name, max_bytes,
           command, max_bytes);
    }
  }
  return text;
}

}  // namespace moescope::cli
