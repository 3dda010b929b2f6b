#include "engine/gguf/gguf_parser.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <numeric>

#include "engine/common/error.h"
#include "engine/tensor/ggml_type.h"

namespace moescope::gguf {
namespace {

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes little endian");

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
constexpr uint64_t kMaxInt64 = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
// Smallest possible encodings, used to bound counts by the bytes left before reserving memory.
constexpr uint64_t kMinMetadataEntryBytes = 8 + 4 + 1;       // key length, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, ne[0],
                                                             // type, offset
constexpr uint32_t kMaxValueType = static_cast<uint32_t>(ValueType::Float64);

uint64_t min_value_bytes(ValueType type) {
  switch (type) {
    case ValueType::UInt8:
    case ValueType::Int8:
    case ValueType::Bool:
      return 1;
    case ValueType::UInt16:
    case ValueType::Int16:
      return 2;
    case ValueType::UInt32:
    case ValueType::Int32:
    case ValueType::Float32:
      return 4;
    case ValueType::UInt64:
    case ValueType::Int64:
    case ValueType::Float64:
    case ValueType::String:  // the length alone
      return 8;
    case ValueType::Array:  // element type and length
      return 12;
  }
  return 1;
}

// Names come from the file: keep messages on one line and short.
std::string printable(std::string_view s) {
  constexpr size_t kMaxShown = 80;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\') {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMaxShown) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

// For sizes that may exceed 64 bits in messages.
unsigned __int128 wide(uint64_t n) {
  return n;
}

std::string format_ne(std::span<const int64_t> ne) {
  return fmt::format("[{}]", fmt::join(ne, ", "));
}

}  // namespace

Parser::Parser(std::span<const std::byte> bytes, std::string name)
    : bytes_(bytes), name_(std::move(name)) {}

void Parser::fail_at(uint64_t pos, std::string_view what) const {
  throw Error(fmt::format("{}: at byte {}: {}", name_, pos, what));
}

void Parser::need(uint64_t n, std::string_view what) const {
  if (n > remaining()) {
    fail_at(pos_, fmt::format("unexpected end of file reading {}{} (needs {} bytes, {} left)", what,
                              context_, n, remaining()));
  }
}

template <typename T>
T Parser::read(std::string_view what) {
  need(sizeof(T), what);
  T value;
  std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
  pos_ += sizeof(T);
  return value;
}

std::string Parser::read_string(std::string_view what) {
  const uint64_t length_pos = pos_;
  const auto length = read<uint64_t>(what);
  if (length > remaining()) {
    fail_at(length_pos, fmt::format("string length {} of {}{} exceeds the {} bytes left", length,
                                    what, context_, remaining()));
  }
  std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
  pos_ += length;
  return s;
}

void Parser::parse(GgufFile& file) {
  read_header(file);
  read_metadata(file);
  read_tensor_infos(file);
  place_tensors(file);
  file.file_size_ = bytes_.size();
}

void Parser::read_header(GgufFile& file) {
  if (bytes_.size() < 4) {
    fail_at(0, fmt::format("file of {} bytes is too short to be a GGUF file", bytes_.size()));
  }
  const auto magic = read<uint32_t>("the magic");
  if (magic != kMagic) {
    fail_at(
        0, fmt::format("bad magic {:02x} {:02x} {:02x} {:02x} (expected \"GGUF\"): not a GGUF file",
                       magic & 0xff, (magic >> 8) & 0xff, (magic >> 16) & 0xff, magic >> 24));
  }
  const uint64_t version_pos = pos_;
  const auto version = read<uint32_t>("the version");
  if (version == 1) {
    fail_at(version_pos, "GGUF version 1 is not supported (only versions 2 and 3 are)");
  }
  if (version != 2 && version != 3) {
    const uint32_t swapped = __builtin_bswap32(version);
    if (swapped == 2 || swapped == 3) {
      fail_at(version_pos, "big-endian GGUF files are not supported");
    }
    fail_at(version_pos,
            fmt::format("unsupported GGUF version {} (only versions 2 and 3 are)", version));
  }
  file.version_ = version;

  const uint64_t tensor_count_pos = pos_;
  n_tensors_ = read<uint64_t>("the tensor count");
  if (n_tensors_ > remaining() / kMinTensorInfoBytes) {
    fail_at(tensor_count_pos,
            fmt::format("tensor count {} needs at least {} bytes, but only {} "
                        "are left",
                        n_tensors_, wide(n_tensors_) * kMinTensorInfoBytes, remaining()));
  }
  const uint64_t metadata_count_pos = pos_;
  n_metadata_ = read<uint64_t>("the metadata count");
  if (n_metadata_ > remaining() / kMinMetadataEntryBytes) {
    fail_at(metadata_count_pos,
            fmt::format("metadata count {} needs at least {} bytes, but only {} are left",
                        n_metadata_, wide(n_metadata_) * kMinMetadataEntryBytes, remaining()));
  }
}

void Parser::read_metadata(GgufFile& file) {
  file.metadata_.reserve(n_metadata_);
  for (uint64_t i = 0; i < n_metadata_; ++i) {
    const uint64_t entry_pos = pos_;
    context_ = fmt::format(" of metadata entry {}", i);
    std::string key = read_string("the key");
    if (key.empty()) fail_at(entry_pos, fmt::format("metadata entry {} has an empty key", i));
    if (file.metadata_index_.contains(key)) {
      fail_at(entry_pos, fmt::format("duplicate metadata key '{}'", printable(key)));
    }
    context_ = fmt::format(" in the value of key '{}'", printable(key));
    const ValueType type = read_value_type("the value type");
    const uint64_t value_pos = pos_;
    Value value = read_value(type, 0);
    if (key == "general.alignment") check_alignment(file, value, value_pos);
    file.metadata_index_.emplace(key, file.metadata_.size());
    file.metadata_.push_back(MetadataEntry{std::move(key), std::move(value)});
  }
  context_.clear();
}

ValueType Parser::read_value_type(std::string_view what) {
  const uint64_t type_pos = pos_;
  const auto raw = read<uint32_t>(what);
  if (raw > kMaxValueType) {
    fail_at(type_pos, fmt::format("unknown metadata value type {}{}", raw, context_));
  }
  return static_cast<ValueType>(raw);
}

Value Parser::read_value(ValueType type, int depth) {
  Value v;
  switch (type) {
    case ValueType::UInt8:
      v.data.emplace<0>(read<uint8_t>("a uint8 value"));
      break;
    case ValueType::Int8:
      v.data.emplace<1>(read<int8_t>("an int8 value"));
      break;
    case ValueType::UInt16:
      v.data.emplace<2>(read<uint16_t>("a uint16 value"));
      break;
    case ValueType::Int16:
      v.data.emplace<3>(read<int16_t>("an int16 value"));
      break;
    case ValueType::UInt32:
      v.data.emplace<4>(read<uint32_t>("a uint32 value"));
      break;
    case ValueType::Int32:
      v.data.emplace<5>(read<int32_t>("an int32 value"));
      break;
    case ValueType::Float32:
      v.data.emplace<6>(read<float>("a float32 value"));
      break;
    case ValueType::Bool: {
      const uint64_t bool_pos = pos_;
      const auto b = read<uint8_t>("a bool value");
      if (b > 1) fail_at(bool_pos, fmt::format("bool value {} is neither 0 nor 1{}", b, context_));
      v.data.emplace<7>(b == 1);
      break;
    }
    case ValueType::String:
      v.data.emplace<8>(read_string("a string value"));
      break;
    case ValueType::Array:
      v.data.emplace<9>(read_array(depth + 1));
      break;
    case ValueType::UInt64:
      v.data.emplace<10>(read<uint64_t>("a uint64 value"));
      break;
    case ValueType::Int64:
      v.data.emplace<11>(read<int64_t>("an int64 value"));
      break;
    case ValueType::Float64:
      v.data.emplace<12>(read<double>("a float64 value"));
      break;
  }
  return v;
}

template <typename T>
std::vector<T> Parser::read_scalars(uint64_t count) {
  need(count * sizeof(T), "the array elements");  // count was bounded by the bytes left
  std::vector<T> values(count);
  if (count > 0) std::memcpy(values.data(), bytes_.data() + pos_, count * sizeof(T));
  pos_ += count * sizeof(T);
  return values;
}

std::shared_ptr<ArrayValue> Parser::read_array(int depth) {
  if (depth > kMaxArrayDepth) {
    fail_at(pos_, fmt::format("arrays nested deeper than {} levels{}", kMaxArrayDepth, context_));
  }
  const ValueType element_type = read_value_type("the array element type");
  const uint64_t count_pos = pos_;
  const auto count = read<uint64_t>("the array length");
  if (count > remaining() / min_value_bytes(element_type)) {
    fail_at(count_pos, fmt::format("array of {} {} values{} needs at least {} bytes, but only {} "
                                   "are left",
                                   count, value_type_name(element_type), context_,
                                   wide(count) * min_value_bytes(element_type), remaining()));
  }
  auto array = std::make_shared<ArrayValue>();
  array->element_type = element_type;
  auto& items = array->items;
  switch (element_type) {
    case ValueType::UInt8:
      items.emplace<0>(read_scalars<uint8_t>(count));
      break;
    case ValueType::Int8:
      items.emplace<1>(read_scalars<int8_t>(count));
      break;
    case ValueType::UInt16:
      items.emplace<2>(read_scalars<uint16_t>(count));
      break;
    case ValueType::Int16:
      items.emplace<3>(read_scalars<int16_t>(count));
      break;
    case ValueType::UInt32:
      items.emplace<4>(read_scalars<uint32_t>(count));
      break;
    case ValueType::Int32:
      items.emplace<5>(read_scalars<int32_t>(count));
      break;
    case ValueType::Float32:
      items.emplace<6>(read_scalars<float>(count));
      break;
    case ValueType::Bool: {
      auto& values = items.emplace<7>();
      values.reserve(count);
      for (uint64_t i = 0; i < count; ++i)
        values.push_back(read_value(ValueType::Bool, depth).as_bool());
      break;
    }
    case ValueType::String: {
      auto& values = items.emplace<8>();
      values.reserve(count);
      for (uint64_t i = 0; i < count; ++i) values.push_back(read_string("an array string"));
      break;
    }
    case ValueType::Array: {
      auto& values = items.emplace<9>();
      values.reserve(count);
      for (uint64_t i = 0; i < count; ++i) values.push_back(read_value(ValueType::Array, depth));
      break;
    }
    case ValueType::UInt64:
      items.emplace<10>(read_scalars<uint64_t>(count));
      break;
    case ValueType::Int64:
      items.emplace<11>(read_scalars<int64_t>(count));
      break;
    case ValueType::Float64:
      items.emplace<12>(read_scalars<double>(count));
      break;
  }
  return array;
}

void Parser::check_alignment(GgufFile& file, const Value& value, uint64_t value_pos) const {
  if (!value.is_integer()) {
    fail_at(value_pos, fmt::format("general.alignment has type {}, expected an unsigned integer",
                                   value_type_name(value.type())));
  }
  const auto* u64 = std::get_if<uint64_t>(&value.data);
  const int64_t as_signed = u64 ? 0 : value.as_int();
  if (!u64 && as_signed < 0) {
    fail_at(value_pos, fmt::format("general.alignment {} is negative", as_signed));
  }
  const uint64_t alignment = u64 ? *u64 : static_cast<uint64_t>(as_signed);
  if (!std::has_single_bit(alignment)) {
    fail_at(value_pos,
            fmt::format("general.alignment {} is not a nonzero power of two", alignment));
  }
  file.alignment_ = alignment;
}

void Parser::read_tensor_infos(GgufFile& file) {
  if (n_tensors_ > remaining() / kMinTensorInfoBytes) {
    fail_at(pos_, fmt::format("the infos of {} tensors need at least {} bytes, but only {} are "
                              "left",
                              n_tensors_, wide(n_tensors_) * kMinTensorInfoBytes, remaining()));
  }
  file.tensors_.reserve(n_tensors_);
  tensor_fields_.reserve(n_tensors_);
  for (uint64_t i = 0; i < n_tensors_; ++i) {
    context_ = fmt::format(" of tensor info {}", i);
    TensorFields fields;
    fields.info_pos = pos_;
    TensorInfo info = read_tensor_info();
    fields.offset_pos = pos_ - sizeof(uint64_t);
    if (file.tensor_index_.contains(info.name)) {
      fail_at(fields.info_pos, fmt::format("duplicate tensor name '{}'", printable(info.name)));
    }
    file.tensor_index_.emplace(info.name, file.tensors_.size());
    file.tensors_.push_back(std::move(info));
    tensor_fields_.push_back(fields);
  }
  context_.clear();
}

TensorInfo Parser::read_tensor_info() {
  const uint64_t info_pos = pos_;
  TensorInfo info;
  info.name = read_string("the tensor name");
  if (info.name.empty()) fail_at(info_pos, "tensor info has an empty name");
  const std::string name = printable(info.name);
  context_ = fmt::format(" of tensor '{}'", name);

  const uint64_t dims_pos = pos_;
  const auto n_dims = read<uint32_t>("the dimension count");
  if (n_dims == 0 || n_dims > kMaxDims) {
    fail_at(dims_pos,
            fmt::format("tensor '{}' has {} dimensions (must be 1 to {})", name, n_dims, kMaxDims));
  }
  uint64_t n_elements = 1;
  for (uint32_t j = 0; j < n_dims; ++j) {
    const uint64_t dim_pos = pos_;
    const auto d = read<uint64_t>("a dimension");
    if (d == 0) fail_at(dim_pos, fmt::format("tensor '{}' has dimension 0 in ne[{}]", name, j));
    if (d > kMaxInt64) {
      fail_at(dim_pos, fmt::format("tensor '{}' dimension ne[{}] = {} is too large", name, j, d));
    }
    info.ne.push_back(static_cast<int64_t>(d));
    if (__builtin_mul_overflow(n_elements, d, &n_elements) || n_elements > kMaxInt64) {
      fail_at(dim_pos, fmt::format("tensor '{}' element count overflows (ne starts {})", name,
                                   format_ne(info.ne)));
    }
  }
  info.n_elements = n_elements;

  const uint64_t type_pos = pos_;
  const auto raw_type = read<uint32_t>("the tensor type");
  const auto traits = ggml_type_traits(raw_type);
  if (!traits) fail_at(type_pos, fmt::format("unknown tensor type {} for '{}'", raw_type, name));
  info.type = traits->type;
  const auto row_length = static_cast<uint64_t>(info.ne[0]);
  if (row_length % traits->block_size != 0) {
    fail_at(type_pos, fmt::format("tensor '{}' rows of {} values are not a multiple of the block "
                                  "size {} of {}",
                                  name, row_length, traits->block_size, traits->name));
  }
  uint64_t row_bytes = 0;
  if (__builtin_mul_overflow(row_length / traits->block_size, traits->block_bytes, &row_bytes) ||
      __builtin_mul_overflow(n_elements / row_length, row_bytes, &info.n_bytes)) {
    fail_at(type_pos, fmt::format("tensor '{}' of shape {} and type {} has a byte size that "
                                  "overflows",
                                  name, format_ne(info.ne), traits->name));
  }
  info.offset = read<uint64_t>("the data offset");
  return info;
}

void Parser::place_tensors(GgufFile& file) {
  const uint64_t size = bytes_.size();
  const uint64_t end = pos_;
  const uint64_t alignment = file.alignment_;
  uint64_t data_offset = 0;
  if (__builtin_add_overflow(end, alignment - 1, &data_offset)) {
    fail_at(end, fmt::format("the alignment {} puts the tensor data past any file", alignment));
  }
  data_offset -= data_offset % alignment;
  file.data_offset_ = data_offset;
  if (file.tensors_.empty()) return;  // vocabulary-only files may end before the padding
  if (data_offset > size) {
    fail_at(end, fmt::format("the tensor data section at byte {} starts past the end of the file "
                             "(size {})",
                             data_offset, size));
  }
  const uint64_t data_size = size - data_offset;
  for (size_t i = 0; i < file.tensors_.size(); ++i) {
    const TensorInfo& t = file.tensors_[i];
    const uint64_t offset_pos = tensor_fields_[i].offset_pos;
    if (t.offset % alignment != 0) {
      fail_at(offset_pos, fmt::format("tensor '{}' offset {} is not a multiple of the alignment {}",
                                      printable(t.name), t.offset, alignment));
    }
    if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
      const auto begin = static_cast<unsigned __int128>(data_offset) + t.offset;
      fail_at(offset_pos, fmt::format("tensor '{}' data [{}, {}) lies outside the file (size {})",
                                      printable(t.name), begin, begin + t.n_bytes, size));
    }
  }
  std::vector<size_t> order(file.tensors_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return file.tensors_[a].offset < file.tensors_[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorInfo& prev = file.tensors_[order[k - 1]];
    const TensorInfo& cur = file.tensors_[order[k]];
    if (cur.offset < prev.offset + prev.n_bytes) {  // both ends validated inside the file
      const size_t later = std::max(order[k - 1], order[k]);
      const size_t earlier = std::min(order[k - 1], order[k]);
      fail_at(tensor_fields_[later].offset_pos,
              fmt::format("tensors '{}' and '{}' overlap", printable(file.tensors_[earlier].name),
                          printable(file.tensors_[later].name)));
    }
  }
}

}  // namespace moescope::gguf
