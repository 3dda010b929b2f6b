#include "engine/offload/expert_source.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
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

GgufExpertSource::GgufExpertSource(const ExpertLayout& layout)
    : layout_(layout), fd_(layout.file().fd()) {
  if (fd_ < 0) {
    fail("{}: the model is not backed by a file on disk, so experts cannot be offloaded",
         layout.file().path().string());
  }
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
    pread_exact(fd_, out.subspan(at, n), layout_.slice_file_offset(moe_layer, p, expert),
                layout_.file().path().string());
    cursor = at + n;
    bytes += n;
  }
  std::memset(out.data() + cursor, 0, t.packed_bytes() - cursor);
  return bytes;
}

}  // namespace moescope::offload
