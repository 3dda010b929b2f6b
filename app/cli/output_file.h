#pragma once
// An output file that appears only when the command succeeds: everything is written to a
// temporary file beside the destination, which commit() renames into place. Destroyed without
// commit() (an error, an exception), it removes the temporary file, so a failed command never
// leaves a partial or truncated output behind (and an existing file at the destination is kept).
#include <filesystem>
#include <string>

namespace moescope::cli {

class OutputFile {
 public:
  // Throws moescope::Error naming the path when its directory does not exist or is not writable.
  explicit OutputFile(std::filesystem::path destination);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Where to write (a file in the destination's directory).
  const std::filesystem::path& temporary() const { return temporary_; }
  const std::filesystem::path& destination() const { return destination_; }

  // Renames the temporary file to the destination; throws moescope::Error on failure.
  void commit();

 private:
  std::filesystem::path destination_;
  std::filesystem::path temporary_;
  bool committed_ = false;
};

// Writes `bytes` to `path` through an OutputFile.
void write_file_atomically(const std::filesystem::path& path, const std::string& bytes);

}  // namespace moescope::cli
