#include "storage/import/zip_archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/common/error.h"

namespace moescope::storage::import {
namespace {

uint16_t u16(const uint8_t* p) {
  return uint16_t(p[0] | p[1] << 8);
}
uint32_t u32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t u64(const uint8_t* p) {
  return uint64_t(u32(p)) | uint64_t(u32(p + 4)) << 32;
}

constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint32_t kZip64End = 0x06064b50;
constexpr uint32_t kDirectoryEntry = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;

}  // namespace

ZipArchive::ZipArchive(const std::filesystem::path& path) : path_(path.string()) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail("cannot open {}: {}", path_, std::strerror(errno));
  struct stat st{};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    fail("{} is not a regular file", path_);
  }
  file_size_ = uint64_t(st.st_size);
  // The end-of-directory record sits in the last 22 + 65535 bytes.
  const size_t tail = size_t(std::min<uint64_t>(file_size_, 22 + 65535 + 20));
  if (tail < 22) fail("{} is not a torch.save file (too short for a ZIP archive)", path_);
  std::vector<uint8_t> buf(tail);
  pread_exact(file_size_ - tail, buf.data(), tail);
  size_t eocd = std::string::npos;
  for (size_t i = tail - 22 + 1; i-- > 0;) {
    if (u32(&buf[i]) == kEndOfDirectory) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos)
    fail("{} is not a torch.save file (no ZIP directory: truncated or another format)", path_);
  uint64_t count = u16(&buf[eocd + 10]);
  uint64_t dir_size = u32(&buf[eocd + 12]);
  uint64_t dir_offset = u32(&buf[eocd + 16]);
  if (eocd >= 20 && u32(&buf[eocd - 20]) == kZip64Locator) {
    const uint64_t end64 = u64(&buf[eocd - 20 + 8]);
    uint8_t rec[56];
    if (end64 + 56 > file_size_) fail("{} is a damaged ZIP archive (ZIP64 record)", path_);
    pread_exact(end64, rec, 56);
    if (u32(rec) != kZip64End) fail("{} is a damaged ZIP archive (ZIP64 record)", path_);
    count = u64(rec + 32);
    dir_size = u64(rec + 40);
    dir_offset = u64(rec + 48);
  }
  if (dir_offset + dir_size > file_size_ || count > dir_size / 46 + 1)
    fail("{} is a truncated or damaged ZIP archive", path_);
  std::vector<uint8_t> dir(static_cast<size_t>(dir_size));
  pread_exact(dir_offset, dir.data(), dir.size());
  size_t at = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (at + 46 > dir.size() || u32(&dir[at]) != kDirectoryEntry)
      fail("{} is a damaged ZIP archive (directory entry {})", path_, i);
    Entry e;
    e.method = u16(&dir[at + 10]);
    e.stored = u32(&dir[at + 20]);
    e.size = u32(&dir[at + 24]);
    const size_t name_len = u16(&dir[at + 28]), extra_len = u16(&dir[at + 30]),
                 comment_len = u16(&dir[at + 32]);
    e.header = u32(&dir[at + 42]);
    if (at + 46 + name_len + extra_len + comment_len > dir.size())
      fail("{} is a damaged ZIP archive (directory entry {})", path_, i);
    e.name.assign(reinterpret_cast<const char*>(&dir[at + 46]), name_len);
    // ZIP64 sizes and offset, in that order, for the fields that are all ones.
    size_t x = at + 46 + name_len;
    const size_t x_end = x + extra_len;
    while (x + 4 <= x_end) {
      const uint16_t id = u16(&dir[x]), len = u16(&dir[x + 2]);
      if (x + 4 + len > x_end) break;
      if (id == 0x0001) {
        size_t f = x + 4;
        auto take = [&](uint64_t& v) {
          if (v == 0xffffffffu && f + 8 <= x + 4 + len) {
            v = u64(&dir[f]);
            f += 8;
          }
        };
        take(e.size);
        take(e.stored);
        take(e.header);
      }
      x += 4 + len;
    }
    at += 46 + name_len + extra_len + comment_len;
    entries_.push_back(std::move(e));
  }
}

ZipArchive::~ZipArchive() {
  if (fd_ >= 0) ::close(fd_);
}

void ZipArchive::pread_exact(uint64_t offset, void* out, size_t n) const {
  auto* p = static_cast<uint8_t*>(out);
  while (n > 0) {
    const ssize_t got = ::pread(fd_, p, n, off_t(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail("cannot read {}: {}", path_, std::strerror(errno));
    if (got == 0) fail("{} is truncated (a ZIP entry runs past its end)", path_);
    p += got;
    n -= size_t(got);
    offset += uint64_t(got);
  }
}

uint64_t ZipArchive::data_offset(const Entry& e) const {
  uint8_t h[30];
  if (e.header + 30 > file_size_) fail("{} is truncated (entry {})", path_, e.name);
  pread_exact(e.header, h, 30);
  if (u32(h) != kLocalHeader) fail("{} is a damaged ZIP archive (entry {})", path_, e.name);
  const uint64_t at = e.header + 30 + u16(h + 26) + u16(h + 28);
  if (at + e.stored > file_size_) fail("{} is truncated (entry {})", path_, e.name);
  return at;
}

const ZipArchive::Entry* ZipArchive::find_suffix(std::string_view suffix) const {
  for (const Entry& e : entries_) {
    if (e.name.size() >= suffix.size() &&
        std::string_view(e.name).substr(e.name.size() - suffix.size()) == suffix)
      return &e;
  }
  return nullptr;
}

const ZipArchive::Entry* ZipArchive::find(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

void ZipArchive::read(const Entry& e, uint64_t offset, void* out, size_t n) const {
  if (e.method != 0) {
    fail("{}: entry {} is compressed (method {}); torch.save stores its entries uncompressed",
         path_, e.name, e.method);
  }
  if (e.stored != e.size) fail("{} is a damaged ZIP archive (entry {})", path_, e.name);
  if (offset > e.size || n > e.size - offset)
    fail("{}: entry {} holds {} bytes, not {} at {}", path_, e.name, e.size, n, offset);
  pread_exact(data_offset(e) + offset, out, n);
}

std::vector<uint8_t> ZipArchive::read_all(const Entry& e, uint64_t max_bytes) const {
  if (e.size > max_bytes) fail("{}: entry {} is larger than {} bytes", path_, e.name, max_bytes);
  std::vector<uint8_t> out(size_t(e.size));
  read(e, 0, out.data(), out.size());
  return out;
}

}  // namespace moescope::storage::import
