#pragma once
// Internal: the one GGUF parser behind GgufFile::open (a mapped file) and GgufFile::open_memory
// (a byte buffer, used by the fuzzer). The input is untrusted: every read is bounds-checked and
// every size derived from a field is checked for overflow and against the bytes that remain
// before anything is allocated from it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/gguf/gguf_file.h"
#include "engine/gguf/gguf_value.h"

namespace moescope::gguf {

// Arrays of arrays deeper than this are rejected; real files nest at most two levels.
inline constexpr int kMaxArrayDepth = 8;

class Parser {
 public:
  // `name` is used in error messages ("NAME: at byte N: ...").
  Parser(std::span<const std::byte> bytes, std::string name);

  // Fills the header fields, metadata and tensor table of `file`. Throws moescope::Error.
  void parse(GgufFile& file);

 private:
  struct TensorFields {
    uint64_t info_pos = 0;    // where the tensor's info record starts
    uint64_t offset_pos = 0;  // where its data offset field is
  };

  [[noreturn]] void fail_at(uint64_t pos, std::string_view what) const;
  uint64_t remaining() const { return bytes_.size() - pos_; }
  void need(uint64_t n, std::string_view what) const;
  template <typename T>
  T read(std::string_view what);
  std::string read_string(std::string_view what);

  void read_header(GgufFile& file);
  void read_metadata(GgufFile& file);
  ValueType read_value_type(std::string_view what);
  Value read_value(ValueType type, int depth);
  std::shared_ptr<ArrayValue> read_array(int depth);
  template <typename T>
  std::vector<T> read_scalars(uint64_t count);
  void check_alignment(GgufFile& file, const Value& value, uint64_t value_pos) const;
  void read_tensor_infos(GgufFile& file);
  TensorInfo read_tensor_info();
  void place_tensors(GgufFile& file);

  std::span<const std::byte> bytes_;
  std::string name_;
  uint64_t pos_ = 0;
  uint64_t n_tensors_ = 0;
  uint64_t n_metadata_ = 0;
  std::string context_;  // "key 'x'" while reading a metadata value, for messages
  std::vector<TensorFields> tensor_fields_;
};

}  // namespace moescope::gguf
