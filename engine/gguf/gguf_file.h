#pragma once
// A read-only GGUF (v2, v3) file. GGUF files are untrusted input: open() validates every count,
// length, offset and size against the file before using it, and reports the first problem as a
// moescope::Error of the form "FILE: at byte OFFSET: WHAT".
//
// Tensor data is memory-mapped; the offloading expert store instead reads expert bytes with
// pread() through fd() and tensor file offsets, so experts do not count against resident memory.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/gguf/gguf_value.h"
#include "engine/tensor/ggml_type.h"

namespace moescope::gguf {

inline constexpr uint32_t kMaxDims = 4;
inline constexpr uint64_t kDefaultAlignment = 32;

struct MetadataEntry {
  std::string key;
  Value value;
};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // ne[0] is the fastest (contiguous) dimension, as in ggml
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;   // relative to the start of the tensor data section
  uint64_t n_bytes = 0;  // validated: rows * row bytes, inside the file
  uint64_t n_elements = 0;

  int64_t dim(size_t i) const { return i < ne.size() ? ne[i] : 1; }
  // Bytes between consecutive slices of the slowest (expert) dimension of a 3-D tensor.
  uint64_t slice_bytes(size_t dim_index) const;
};

class GgufFile {
 public:
  // Throws moescope::Error naming the file, the byte offset and the problem.
  static GgufFile open(const std::filesystem::path& path);
  // Parses a copy of `bytes` with the same checks; `name` stands for the path in messages and in
  // path(). fd() is -1. For tests and the fuzzer.
  static GgufFile open_memory(std::span<const std::byte> bytes, std::string name);

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;
  ~GgufFile();

  const std::filesystem::path& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t file_size() const { return file_size_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute offset of the data section

  const std::vector<MetadataEntry>& metadata() const { return metadata_; }
  const Value* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed look-ups: nullopt when the key is absent; moescope::Error (naming the key) when the key
  // exists with an incompatible type.
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<double> get_float(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  std::optional<std::string> get_string(std::string_view key) const;
  const ArrayValue* get_array(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;

  // The tensor's bytes inside the mapping (valid while this object lives).
  // Throws moescope::Error if `info` does not lie inside this file (e.g. it belongs to another).
  std::span<const std::byte> tensor_data(const TensorInfo& info) const;
  // Absolute file offset of a tensor's first byte, for pread().
  uint64_t tensor_file_offset(const TensorInfo& info) const { return data_offset_ + info.offset; }
  int fd() const { return fd_; }

 private:
  GgufFile() = default;
  void release() noexcept;

  std::filesystem::path path_;
  uint32_t version_ = 0;
  uint64_t file_size_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<MetadataEntry> metadata_;
  std::unordered_map<std::string, size_t> metadata_index_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
  int fd_ = -1;
  const std::byte* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  bool mapped_ = false;           // mapping_ came from mmap (else it points into owned_)
  std::vector<std::byte> owned_;  // the bytes of an open_memory() file

  friend class Parser;
};

}  // namespace moescope::gguf
