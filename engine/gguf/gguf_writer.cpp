#include "engine/gguf/gguf_writer.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "engine/common/atomic_file.h"
#include "engine/common/error.h"

namespace moescope::gguf {
namespace {

constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};

uint64_t align_up(uint64_t n, uint64_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

template <typename T>
void put_scalar(const std::function<void(const void*, size_t)>& put, T value) {
  put(&value, sizeof(T));
}

void put_string(const std::function<void(const void*, size_t)>& put, const std::string& s) {
  put_scalar<uint64_t>(put, s.size());
  put(s.data(), s.size());
}

void put_value(const std::function<void(const void*, size_t)>& put, const Value& value);

void put_array(const std::function<void(const void*, size_t)>& put, const ArrayValue& array) {
  const auto element_type = static_cast<ValueType>(array.items.index());
  if (element_type != array.element_type) {
    fail("GGUF writer: array says its elements are {} but holds {} values",
         value_type_name(array.element_type), value_type_name(element_type));
  }
  put_scalar<uint32_t>(put, static_cast<uint32_t>(element_type));
  put_scalar<uint64_t>(put, array.size());
  std::visit(
      [&put](const auto& items) {
        using T = typename std::decay_t<decltype(items)>::value_type;
        if constexpr (std::is_same_v<T, bool>) {
          for (bool b : items) put_scalar<uint8_t>(put, b ? 1 : 0);
        } else if constexpr (std::is_same_v<T, std::string>) {
          for (const auto& s : items) put_string(put, s);
        } else if constexpr (std::is_same_v<T, Value>) {
          for (const auto& v : items) {
            if (v.type() != ValueType::Array) {
              fail("GGUF writer: an array of arrays holds a {} value", value_type_name(v.type()));
            }
            put_array(put, v.as_array());
          }
        } else {
          if (!items.empty()) put(items.data(), items.size() * sizeof(T));
        }
      },
      array.items);
}

void put_value(const std::function<void(const void*, size_t)>& put, const Value& value) {
  std::visit(
      [&put](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          put_scalar<uint8_t>(put, v ? 1 : 0);
        } else if constexpr (std::is_same_v<T, std::string>) {
          put_string(put, v);
        } else if constexpr (std::is_same_v<T, std::shared_ptr<ArrayValue>>) {
          if (!v) fail("GGUF writer: null array value");
          put_array(put, *v);
        } else {
          put_scalar<T>(put, v);
        }
      },
      value.data);
}

}  // namespace

void GgufWriter::set_version(uint32_t version) {
  if (version != 2 && version != 3) fail("GGUF writer: cannot write version {}", version);
  version_ = version;
}

void GgufWriter::set_alignment(uint64_t alignment) {
  if (!std::has_single_bit(alignment) || alignment > std::numeric_limits<uint32_t>::max()) {
    fail("GGUF writer: alignment {} is not a power of two that fits in uint32", alignment);
  }
  alignment_ = alignment;
  set("general.alignment", make_value(static_cast<uint32_t>(alignment)));
}

void GgufWriter::set(std::string key, Value value) {
  if (key.empty()) fail("GGUF writer: empty metadata key");
  if (key == "general.alignment") {
    const auto* u64 = std::get_if<uint64_t>(&value.data);
    const int64_t as_signed = u64 || !value.is_integer() ? 0 : value.as_int();
    const uint64_t alignment = u64 ? *u64 : static_cast<uint64_t>(std::max<int64_t>(as_signed, 0));
    if (!value.is_integer() || !std::has_single_bit(alignment) ||
        alignment > std::numeric_limits<uint32_t>::max()) {
      fail("GGUF writer: general.alignment must be a power of two that fits in uint32");
    }
    alignment_ = alignment;
    layout();
  }
  if (const auto it = metadata_index_.find(key); it != metadata_index_.end()) {
    metadata_[it->second].value = std::move(value);
    return;
  }
  metadata_index_.emplace(key, metadata_.size());
  metadata_.push_back(MetadataEntry{std::move(key), std::move(value)});
}

TensorInfo GgufWriter::make_info(std::string name, GgmlType type, std::vector<int64_t> ne) const {
  if (name.empty()) fail("GGUF writer: empty tensor name");
  if (tensor_index_.contains(name)) fail("GGUF writer: duplicate tensor name '{}'", name);
  if (ne.empty() || ne.size() > kMaxDims) {
    fail("GGUF writer: tensor '{}' has {} dimensions (must be 1 to {})", name, ne.size(), kMaxDims);
  }
  const GgmlTypeTraits& traits = ggml_type_traits(type);
  uint64_t n_elements = 1;
  for (int64_t d : ne) {
    if (d <= 0) fail("GGUF writer: tensor '{}' has dimension {}", name, d);
    if (__builtin_mul_overflow(n_elements, static_cast<uint64_t>(d), &n_elements)) {
      fail("GGUF writer: tensor '{}' element count overflows", name);
    }
  }
  if (ne[0] % traits.block_size != 0) {
    fail("GGUF writer: tensor '{}' rows of {} values are not a multiple of the block size {} of {}",
         name, ne[0], traits.block_size, traits.name);
  }
  TensorInfo info;
  info.name = std::move(name);
  info.type = type;
  info.n_elements = n_elements;
  info.n_bytes = n_elements / static_cast<uint64_t>(ne[0]) *
                 ggml_row_bytes(traits, static_cast<uint64_t>(ne[0]));
  info.ne = std::move(ne);
  return info;
}

void GgufWriter::layout() {
  uint64_t offset = 0;
  for (auto& t : tensors_) {
    t.offset = offset;
    offset = align_up(offset + t.n_bytes, alignment_);
  }
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne,
                            std::vector<std::byte> data) {
  TensorInfo info = make_info(std::move(name), type, std::move(ne));
  if (data.size() != info.n_bytes) {
    fail("GGUF writer: tensor '{}' needs {} bytes of {} data, got {}", info.name, info.n_bytes,
         ggml_type_name(type), data.size());
  }
  auto bytes = std::make_shared<std::vector<std::byte>>(std::move(data));
  tensor_index_.emplace(info.name, tensors_.size());
  tensors_.push_back(std::move(info));
  producers_.push_back([bytes](std::span<std::byte> out) {
    if (!bytes->empty()) std::memcpy(out.data(), bytes->data(), bytes->size());
  });
  layout();
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne,
                            DataProducer producer) {
  TensorInfo info = make_info(std::move(name), type, std::move(ne));
  tensor_index_.emplace(info.name, tensors_.size());
  tensors_.push_back(std::move(info));
  producers_.push_back(std::move(producer));
  layout();
}

void GgufWriter::add_tensor_f32(std::string name, std::vector<int64_t> ne,
                                std::span<const float> values) {
  std::vector<std::byte> data(values.size_bytes());
  if (!values.empty()) std::memcpy(data.data(), values.data(), values.size_bytes());
  add_tensor(std::move(name), GgmlType::F32, std::move(ne), std::move(data));
}

void GgufWriter::serialize(const Sink& put) const {
  uint64_t written = 0;
  const Sink counted = [&](const void* data, size_t size) {
    put(data, size);
    written += size;
  };
  const auto pad = [&] {
    static constexpr std::byte kZeros[256] = {};
    for (uint64_t n = align_up(written, alignment_) - written; n > 0;) {
      const size_t chunk = std::min<uint64_t>(n, sizeof(kZeros));
      counted(kZeros, chunk);
      n -= chunk;
    }
  };

  counted(kMagic, sizeof(kMagic));
  put_scalar<uint32_t>(counted, version_);
  put_scalar<uint64_t>(counted, tensors_.size());
  put_scalar<uint64_t>(counted, metadata_.size());
  for (const auto& entry : metadata_) {
    put_string(counted, entry.key);
    put_scalar<uint32_t>(counted, static_cast<uint32_t>(entry.value.type()));
    put_value(counted, entry.value);
  }
  for (const auto& t : tensors_) {
    put_string(counted, t.name);
    put_scalar<uint32_t>(counted, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) put_scalar<uint64_t>(counted, static_cast<uint64_t>(d));
    put_scalar<uint32_t>(counted, static_cast<uint32_t>(t.type));
    put_scalar<uint64_t>(counted, t.offset);
  }
  pad();
  std::vector<std::byte> buffer;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    buffer.assign(tensors_[i].n_bytes, std::byte{0});
    producers_[i](buffer);
    counted(buffer.data(), buffer.size());
    pad();
  }
}

std::vector<std::byte> GgufWriter::to_bytes() const {
  std::vector<std::byte> out;
  serialize([&out](const void* data, size_t size) {
    const auto* p = static_cast<const std::byte*>(data);
    out.insert(out.end(), p, p + size);
  });
  return out;
}

void GgufWriter::write(const std::filesystem::path& path) const {
  AtomicFile out(path);
  serialize([&out](const void* data, size_t size) { out.write(data, size); });
  out.commit();
}

}  // namespace moescope::gguf
