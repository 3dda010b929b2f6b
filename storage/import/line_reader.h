#pragma once
// Reads a text file line by line with a bounded line length, so that a file without newlines (or
// a device) cannot make an importer allocate without limit.
#include <cstdio>
#include <filesystem>
#include <string>

namespace moescope::storage::import {

class LineReader {
 public:
  // Throws moescope::Error naming the file when it cannot be opened.
  LineReader(const std::filesystem::path& path, size_t max_line_bytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its '\n' (and '\r'); false at the end of the file. Throws when a line is
  // longer than the limit or the file cannot be read.
  bool next(std::string& line);
  int64_t line_number() const { return line_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  size_t max_;
  int64_t line_ = 0;
};

}  // namespace moescope::storage::import
