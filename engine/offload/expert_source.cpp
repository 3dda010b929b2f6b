#include "engine/offload/expert_source.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "engine/common/error.h"

namespace moescope::offload {

void pread_exact(int fd, std::span<std::byte> out, uint64_t offset, const std::string& what) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("{}: read of {} bytes at offset {} failed: {}", what, out.size(), offset,
           std::strerror(errno));
    }
    if (n == 0) {
      fail("{}: unexpected end of file reading {} bytes at offset {}", what, out.size(), offset);
    }
    done += static_cast<size_t>(n);
  }
}

void release_mapped_experts(const ExpertLayout& layout) {
  const gguf::GgufFile& file = layout.file();
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  for (MoeLayerId m(0); m.value < layout.n_layers(); ++m.value) {
    for (const gguf::TensorInfo* t : layout.tensors(m).parts) {
      if (t == nullptr) continue;
      const std::span<const std::byte> bytes = file.tensor_data(*t);
      // Only pages wholly inside the tensor: the neighbours may be resident weights.
      const uintptr_t begin = (reinterpret_cast<uintptr_t>(bytes.data()) + page - 1) / page * page;
      const uintptr_t end =
          (reinterpret_cast<uintptr_t>(bytes.data()) + bytes.size()) / page * page;
      // Advisory: a failure only means the pages stay resident.
      if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
    }
  }
}

namespace {
// O_DIRECT transfers start, end and land on multiples of the device's logical block size; 4 KiB
// covers every common one.
constexpr uint64_t kDirectAlign = 4096;
}  // namespace

GgufExpertSource::GgufExpertSource(const ExpertLayout& layout, SlowTierRead read)
    : layout_(layout), read_(read), fd_(layout.file().fd()) {
  const std::string path = layout.file().path().string();
  if (fd_ < 0) {
    fail("{}: the model is not backed by a file on disk, so experts cannot be offloaded", path);
  }
  if (read_ != SlowTierRead::kDirect) return;
  direct_fd_ = ::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (direct_fd_ < 0) {
    fail("{}: cannot open for O_DIRECT reads ({}); use --expert-read dropcache instead", path,
         std::strerror(errno));
  }
  // The bounce buffer holds the largest part plus a block of slack at either end.
  for (MoeLayerId m(0); m.value < layout_.n_layers(); ++m.value) {
    for (size_t i = 0; i < kExpertPartCount; ++i) {
      bounce_bytes_ =
          std::max(bounce_bytes_, layout_.tensors(m).slice_bytes(static_cast<ExpertPart>(i)));
    }
  }
  bounce_bytes_ =
      (bounce_bytes_ + 2 * kDirectAlign + kDirectAlign - 1) / kDirectAlign * kDirectAlign;
  void* p = nullptr;
  if (::posix_memalign(&p, kDirectAlign, bounce_bytes_) != 0) {
    ::close(direct_fd_);
    fail("{}: no memory for a {}-byte O_DIRECT buffer", path, bounce_bytes_);
  }
  bounce_ = static_cast<std::byte*>(p);
}

GgufExpertSource::~GgufExpertSource() {
  std::free(bounce_);
  if (direct_fd_ >= 0) ::close(direct_fd_);
}

void GgufExpertSource::read_part(std::span<std::byte> out, uint64_t offset) {
  const std::string what = layout_.file().path().string();
  switch (read_) {
    case SlowTierRead::kPageCache:
      break;
    case SlowTierRead::kDropCache:
      // Advisory: pages another process maps stay, and then the read is served from RAM.
      ::posix_fadvise(fd_, off_t(offset), off_t(out.size()), POSIX_FADV_DONTNEED);
      break;
    case SlowTierRead::kDirect:
      read_direct(out, offset);
      return;
  }
  pread_exact(fd_, out, offset, what);
}

void GgufExpertSource::read_direct(std::span<std::byte> out, uint64_t offset) {
  const uint64_t begin = offset / kDirectAlign * kDirectAlign;
  const uint64_t end = (offset + out.size() + kDirectAlign - 1) / kDirectAlign * kDirectAlign;
  if (end - begin > bounce_bytes_) fail("an expert part is larger than the O_DIRECT buffer");
  uint64_t done = 0;
  // Whole blocks; the file's last block may be short (end of file), which is fine once the
  // part's own bytes are in.
  while (begin + done < offset + out.size()) {
    const ssize_t n = ::pread(direct_fd_, bounce_ + done, end - begin - done, off_t(begin + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("{}: O_DIRECT read of {} bytes at offset {} failed: {}", layout_.file().path().string(),
           end - begin, begin, std::strerror(errno));
    }
    if (n == 0) {
      fail("{}: unexpected end of file reading {} bytes at offset {}",
           layout_.file().path().string(), out.size(), offset);
    }
    done += uint64_t(n);
  }
  std::memcpy(out.data(), bounce_ + (offset - begin), out.size());
}

uint64_t GgufExpertSource::link_bytes(MoeLayerId moe_layer, int32_t /*expert*/) const {
  uint64_t bytes = 0;
  const LayerExpertTensors& t = layout_.tensors(moe_layer);
  for (size_t i = 0; i < kExpertPartCount; ++i) bytes += t.slice_bytes(static_cast<ExpertPart>(i));
  return bytes;
}

uint64_t GgufExpertSource::fetch(MoeLayerId moe_layer, int32_t expert, std::span<std::byte> out) {
  const LayerExpertTensors& t = layout_.tensors(moe_layer);
  if (out.size() < t.packed_bytes()) {
    fail("expert buffer of {} bytes is smaller than layer {}'s experts ({} bytes)", out.size(),
         layout_.block(moe_layer).value, t.packed_bytes());
  }
  uint64_t bytes = 0;
  uint64_t cursor = 0;  // end of the last part written, to zero the padding after it
  for (size_t i = 0; i < kExpertPartCount; ++i) {
    const auto p = static_cast<ExpertPart>(i);
    if (!t.has(p)) continue;
    const uint64_t at = t.packed_offset(p);
    const uint64_t n = t.slice_bytes(p);
    std::memset(out.data() + cursor, 0, at - cursor);
    read_part(out.subspan(at, n), layout_.slice_file_offset(moe_layer, p, expert));
    cursor = at + n;
    bytes += n;
  }
  std::memset(out.data() + cursor, 0, t.packed_bytes() - cursor);
  return bytes;
}

}  // namespace moescope::offload
