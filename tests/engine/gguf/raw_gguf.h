#pragma once
// Builds GGUF bytes field by field, straight from the format description, so tests can write any
// value into any field (including invalid ones) and check GgufWriter against an independent
// encoder.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moescope::test {

struct RawBuilder {
  std::vector<std::byte> bytes;

  template <typename T>
  RawBuilder& put(T value) {
    const auto* p = reinterpret_cast<const std::byte*>(&value);
    bytes.insert(bytes.end(), p, p + sizeof(T));
    return *this;
  }
  RawBuilder& u8(uint8_t v) { return put(v); }
  RawBuilder& u32(uint32_t v) { return put(v); }
  RawBuilder& u64(uint64_t v) { return put(v); }
  RawBuilder& chars(std::string_view s) {
    for (char c : s) bytes.push_back(static_cast<std::byte>(c));
    return *this;
  }
  RawBuilder& str(std::string_view s) { return u64(s.size()).chars(s); }
  RawBuilder& zeros(size_t n) {
    bytes.insert(bytes.end(), n, std::byte{0});
    return *this;
  }
  RawBuilder& pad_to(uint64_t alignment) {
    return zeros((alignment - bytes.size() % alignment) % alignment);
  }
  size_t size() const { return bytes.size(); }
};

// Metadata value type ids and tensor type ids as stored in files.
enum RawType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

struct RawTensor {
  std::string name;
  std::vector<uint64_t> ne;
  uint32_t type = 0;  // F32
  uint64_t offset = 0;
};

struct RawFile {
  uint32_t magic = 0x46554747;  // "GGUF"
  uint32_t version = 3;
  std::optional<uint64_t> tensor_count;    // default: tensors.size()
  std::optional<uint64_t> metadata_count;  // default: metadata.size()
  // Each entry writes one whole key/value record (key string, value type, value).
  std::vector<std::function<void(RawBuilder&)>> metadata;
  std::vector<RawTensor> tensors;
  uint64_t alignment = 32;  // padding before the data section
  uint64_t data_bytes = 0;  // zero bytes written after the padding

  std::vector<std::byte> build() const {
    RawBuilder b;
    b.u32(magic).u32(version);
    b.u64(tensor_count.value_or(tensors.size()));
    b.u64(metadata_count.value_or(metadata.size()));
    for (const auto& kv : metadata) kv(b);
    for (const auto& t : tensors) {
      b.str(t.name).u32(static_cast<uint32_t>(t.ne.size()));
      for (uint64_t d : t.ne) b.u64(d);
      b.u32(t.type).u64(t.offset);
    }
    if (!tensors.empty() || data_bytes > 0) b.pad_to(alignment);
    b.zeros(data_bytes);
    return b.bytes;
  }
};

inline std::function<void(RawBuilder&)> kv_string(std::string key, std::string value) {
  return [=](RawBuilder& b) { b.str(key).u32(kString).str(value); };
}
inline std::function<void(RawBuilder&)> kv_u32(std::string key, uint32_t value) {
  return [=](RawBuilder& b) { b.str(key).u32(kU32).u32(value); };
}
// Any record: key, then `body` writes the type id and the value.
inline std::function<void(RawBuilder&)> kv_raw(std::string key,
                                               std::function<void(RawBuilder&)> body) {
  return [=](RawBuilder& b) {
    b.str(key);
    body(b);
  };
}

}  // namespace moescope::test
