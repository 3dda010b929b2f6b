#include "engine/offload/expert_arena.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/common/error.h"

namespace moescope::offload {

ExpertArena::ExpertArena(int32_t n_buffers, uint64_t buffer_bytes) : n_buffers_(n_buffers) {
  if (n_buffers < 1) fail("the expert arena needs at least one buffer");
  page_ = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  stride_ = (std::max<uint64_t>(buffer_bytes, 1) + page_ - 1) / page_ * page_;
  const uint64_t total = mapped_bytes();
  if (total / stride_ != static_cast<uint64_t>(n_buffers)) fail("the expert arena is too large");
  // Reserved with a huge page of slack, so that the buffers can start on a huge page boundary.
  void* p = ::mmap(nullptr, reserved_bytes(), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    fail("cannot reserve {} bytes for the expert arena: {}", total, std::strerror(errno));
  }
  reservation_ = static_cast<std::byte*>(p);
  const auto at = reinterpret_cast<uintptr_t>(p);
  base_ = reservation_ + ((at + kHugePage - 1) / kHugePage * kHugePage - at);
  // Experts are megabytes: a load's first write of a 4 KiB page costs a fault each (on the
  // realistic model ~10 % of an offloaded decode's CPU, perf), and the kernels walking an
  // expert miss the TLB every page. Transparent huge pages, where the system allows them
  // ("madvise" mode); advisory, a failure only keeps small pages.
  ::madvise(base_, total, MADV_HUGEPAGE);
  extent_.assign(static_cast<size_t>(n_buffers), 0);
  for (int32_t i = n_buffers - 1; i >= 0; --i) free_.push_back(i);
}

ExpertArena::~ExpertArena() {
  if (reservation_ != nullptr) ::munmap(reservation_, reserved_bytes());
}

int32_t ExpertArena::allocate(uint64_t bytes) {
  if (free_.empty()) return -1;
  const int32_t i = free_.back();
  free_.pop_back();
  // Give back the pages beyond this expert that a bigger one committed before.
  const uint64_t keep = (bytes + page_ - 1) / page_ * page_;
  if (extent_[i] > keep) {
    ::madvise(base_ + stride_ * static_cast<uint64_t>(i) + keep, extent_[i] - keep, MADV_DONTNEED);
  }
  extent_[i] = keep;
  max_in_use_ = std::max(max_in_use_, n_buffers_ - n_free());
  return i;
}

void ExpertArena::free(int32_t buffer) {
  free_.push_back(buffer);
}

}  // namespace moescope::offload
