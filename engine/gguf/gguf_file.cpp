#include "engine/gguf/gguf_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "engine/common/error.h"
#include "engine/gguf/gguf_parser.h"

namespace moescope::gguf {

uint64_t TensorInfo::slice_bytes(size_t dim_index) const {
  const GgmlTypeTraits& traits = ggml_type_traits(type);
  if (dim_index == 0) {
    if (traits.block_size != 1) {
      fail("tensor '{}': {} elements are packed in blocks and have no byte stride", name,
           traits.name);
    }
    return traits.block_bytes;
  }
  if (dim_index >= ne.size()) return n_bytes;
  // Validated by the parser: the product never exceeds n_bytes.
  uint64_t bytes = ggml_row_bytes(traits, static_cast<uint64_t>(ne[0]));
  for (size_t i = 1; i < dim_index; ++i) bytes *= static_cast<uint64_t>(ne[i]);
  return bytes;
}

GgufFile GgufFile::open(const std::filesystem::path& path) {
  GgufFile file;
  file.path_ = path;
  // O_NONBLOCK: opening a FIFO must not hang; it is rejected below as not a regular file.
  file.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (file.fd_ < 0) fail("{}: cannot open: {}", path.string(), std::strerror(errno));
  struct stat st {};
  if (::fstat(file.fd_, &st) != 0) fail("{}: cannot stat: {}", path.string(), std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail("{}: not a regular file", path.string());
  file.mapping_size_ = static_cast<size_t>(st.st_size);
  if (file.mapping_size_ > 0) {
    void* p = ::mmap(nullptr, file.mapping_size_, PROT_READ, MAP_PRIVATE, file.fd_, 0);
    if (p == MAP_FAILED) fail("{}: cannot map: {}", path.string(), std::strerror(errno));
    file.mapping_ = static_cast<const std::byte*>(p);
    file.mapped_ = true;
  }
  Parser(std::span(file.mapping_, file.mapping_size_), path.string()).parse(file);
  return file;
}

GgufFile GgufFile::open_memory(std::span<const std::byte> bytes, std::string name) {
  GgufFile file;
  file.path_ = name;
  file.owned_.assign(bytes.begin(), bytes.end());
  file.mapping_ = file.owned_.data();
  file.mapping_size_ = file.owned_.size();
  Parser(std::span<const std::byte>(file.owned_), std::move(name)).parse(file);
  return file;
}

GgufFile::GgufFile(GgufFile&& other) noexcept {
  *this = std::move(other);
}

GgufFile& GgufFile::operator=(GgufFile&& other) noexcept {
  if (this == &other) return *this;
  release();
  path_ = std::move(other.path_);
  version_ = other.version_;
  file_size_ = other.file_size_;
  alignment_ = other.alignment_;
  data_offset_ = other.data_offset_;
  metadata_ = std::move(other.metadata_);
  metadata_index_ = std::move(other.metadata_index_);
  tensors_ = std::move(other.tensors_);
  tensor_index_ = std::move(other.tensor_index_);
  fd_ = std::exchange(other.fd_, -1);
  // Moving a vector keeps its buffer, so a mapping_ into owned_ stays valid.
  owned_ = std::move(other.owned_);
  mapping_ = std::exchange(other.mapping_, nullptr);
  mapping_size_ = std::exchange(other.mapping_size_, 0);
  mapped_ = std::exchange(other.mapped_, false);
  return *this;
}

GgufFile::~GgufFile() {
  release();
}

void GgufFile::release() noexcept {
  if (mapped_ && mapping_) ::munmap(const_cast<std::byte*>(mapping_), mapping_size_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  mapping_ = nullptr;
  mapping_size_ = 0;
  mapped_ = false;
  owned_.clear();
}

const Value* GgufFile::find(std::string_view key) const {
  const auto it = metadata_index_.find(std::string(key));
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].value;
}

namespace {

[[noreturn]] void wrong_type(const std::filesystem::path& path, std::string_view key,
                             const Value& value, std::string_view expected) {
  fail("{}: metadata key '{}' has type {}, expected {}", path.string(), key,
       value_type_name(value.type()), expected);
}

}  // namespace

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer()) wrong_type(path_, key, *v, "an integer");
  if (const auto* u = std::get_if<uint64_t>(&v->data); u && *u > INT64_MAX) {
    fail("{}: metadata key '{}' value {} does not fit in int64", path_.string(), key, *u);
  }
  return v->as_int();
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer() && !v->is_float()) wrong_type(path_, key, *v, "a number");
  return v->as_double();
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type() != ValueType::Bool) wrong_type(path_, key, *v, "a bool");
  return v->as_bool();
}

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type() != ValueType::String) wrong_type(path_, key, *v, "a string");
  return v->as_string();
}

const ArrayValue* GgufFile::get_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return nullptr;
  if (v->type() != ValueType::Array) wrong_type(path_, key, *v, "an array");
  return &v->as_array();
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const std::byte> GgufFile::tensor_data(const TensorInfo& info) const {
  uint64_t begin = 0;
  if (__builtin_add_overflow(data_offset_, info.offset, &begin) || begin > mapping_size_ ||
      info.n_bytes > mapping_size_ - begin) {
    fail("{}: tensor '{}' data [{}, +{}) is not inside this file", path_.string(), info.name, begin,
         info.n_bytes);
  }
  return {mapping_ + begin, static_cast<size_t>(info.n_bytes)};
}

}  // namespace moescope::gguf
