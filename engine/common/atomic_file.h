#pragma once
// An output file that appears only complete: everything is written to a unique temporary file
// beside the destination (mkstemp, so two writers of one destination never share it), and
// commit() flushes it to disk, checks the close and renames it into place. Destroyed without
// commit() (an error, an exception), it removes the temporary file: a failed write never leaves
// a partial file, and an existing file at the destination is kept. Every writer of the project's
// output files goes through here (reports, exports, packs, logits, GGUF files).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace moescope {

class AtomicFile {
 public:
  // Throws moescope::Error naming the destination when its directory does not exist or is not
  // writable, or when it is a directory.
  explicit AtomicFile(std::filesystem::path destination);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Where to write: a file in the destination's directory. Writers that open it by name must
  // check their own writes and close; commit() then flushes what they wrote.
  const std::filesystem::path& temporary() const { return temporary_; }
  const std::filesystem::path& destination() const { return destination_; }
  // The temporary file, open for writing (pwrite at any offset).
  int fd() const { return fd_; }

  // Appends `size` bytes at the end of what write() wrote so far; throws moescope::Error ("DEST:
  // cannot write: No space left on device") when not all of them are written.
  void write(const void* data, size_t size);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  // Writes at `offset` (for formats with a header written last).
  void write_at(const void* data, size_t size, uint64_t offset);

  // fsync, close and rename into place; throws moescope::Error when any of them fails (the
  // destination is then untouched).
  void commit();

 private:
  [[noreturn]] void fail_errno() const;

  std::filesystem::path destination_;
  std::filesystem::path temporary_;
  int fd_ = -1;
  uint64_t end_ = 0;  // where write() appends
  bool committed_ = false;
};

// Writes `bytes` to `path` through an AtomicFile.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace moescope
