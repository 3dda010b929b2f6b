#pragma once
// Writes GGUF files (v3 by default, little endian): metadata of every value type, tensors of every
// ggml type, any power-of-two alignment. Used by tests, tools and model generators. Tensor data is
// either given as bytes or produced on demand while writing, so large files need not be held in
// memory.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/gguf/gguf_file.h"
#include "engine/gguf/gguf_value.h"
#include "engine/tensor/ggml_type.h"

namespace moescope::gguf {

class GgufWriter {
 public:
  // Fills exactly n_bytes of the tensor's data.
  using DataProducer = std::function<void(std::span<std::byte> out)>;

  void set_version(uint32_t version);  // 2 or 3
  // A power of two; written as general.alignment (uint32) unless it is the default 32 and the key
  // was never set.
  void set_alignment(uint64_t alignment);
  uint64_t alignment() const { return alignment_; }

  // Adds a key, or replaces its value in place (keys keep the order of their first set). Setting
  // general.alignment also sets the alignment.
  void set(std::string key, Value value);
  void set_string(std::string key, std::string value) {
    set(std::move(key), make_value(std::move(value)));
  }
  void set_bool(std::string key, bool value) { set(std::move(key), make_value(value)); }
  void set_u32(std::string key, uint32_t value) { set(std::move(key), make_value(value)); }
  void set_i32(std::string key, int32_t value) { set(std::move(key), make_value(value)); }
  void set_u64(std::string key, uint64_t value) { set(std::move(key), make_value(value)); }
  void set_i64(std::string key, int64_t value) { set(std::move(key), make_value(value)); }
  void set_f32(std::string key, float value) { set(std::move(key), make_value(value)); }
  void set_f64(std::string key, double value) { set(std::move(key), make_value(value)); }
  void set_array(std::string key, ArrayValue array) {
    set(std::move(key), make_value(std::move(array)));
  }
  template <typename T>
  void set_array(std::string key, std::vector<T> items) {
    set_array(std::move(key), make_array(std::move(items)));
  }
  const std::vector<MetadataEntry>& metadata() const { return metadata_; }

  // ne[0] is the contiguous dimension; 1 to 4 dims, each > 0, ne[0] a multiple of the type's block
  // size; data.size() must equal the tensor's byte size. Throws moescope::Error otherwise.
  void add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne,
                  std::vector<std::byte> data);
  void add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne, DataProducer producer);
  void add_tensor_f32(std::string name, std::vector<int64_t> ne, std::span<const float> values);
  // Tensor infos as they will be written (offsets relative to the data section).
  const std::vector<TensorInfo>& tensors() const { return tensors_; }

  std::vector<std::byte> to_bytes() const;
  // Writes PATH.tmp, then renames it to PATH. Throws moescope::Error naming the path.
  void write(const std::filesystem::path& path) const;

 private:
  using Sink = std::function<void(const void* data, size_t size)>;
  void serialize(const Sink& put) const;
  TensorInfo make_info(std::string name, GgmlType type, std::vector<int64_t> ne) const;
  void layout();  // assigns aligned offsets to every tensor

  uint32_t version_ = 3;
  uint64_t alignment_ = kDefaultAlignment;
  std::vector<MetadataEntry> metadata_;
  std::unordered_map<std::string, size_t> metadata_index_;
  std::vector<TensorInfo> tensors_;
  std::vector<DataProducer> producers_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace moescope::gguf
