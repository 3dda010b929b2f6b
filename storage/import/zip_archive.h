#pragma once
// Just enough ZIP to read torch.save files: the central directory (ZIP64 too) and stored
// (uncompressed) entries, read in place with pread so large tensors never have to fit in memory.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace moescope::storage::import {

class ZipArchive {
 public:
  struct Entry {
    std::string name;
    uint16_t method = 0;   // 0 = stored
    uint64_t size = 0;     // uncompressed bytes
    uint64_t stored = 0;   // bytes in the file
    uint64_t header = 0;   // offset of the local header
  };

  // Reads the central directory. Throws moescope::Error naming the file when it is not a ZIP
  // archive or is truncated.
  explicit ZipArchive(const std::filesystem::path& path);
  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  const std::vector<Entry>& entries() const { return entries_; }
  // The entry whose name ends with `suffix` (e.g. "/data.pkl"), or null.
  const Entry* find_suffix(std::string_view suffix) const;
  const Entry* find(std::string_view name) const;
  // Bytes [offset, offset + n) of a stored entry. Throws for a compressed entry or a range
  // outside it.
  void read(const Entry& e, uint64_t offset, void* out, size_t n) const;
  std::vector<uint8_t> read_all(const Entry& e, uint64_t max_bytes) const;

 private:
  void pread_exact(uint64_t offset, void* out, size_t n) const;
  uint64_t data_offset(const Entry& e) const;

  std::string path_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace moescope::storage::import
