#pragma once
// The fast tier: a fixed number of equally sized expert buffers in one anonymous mapping. Pages
// are committed when a load first writes them, and a buffer reused for a smaller expert gives the
// excess pages back, so resident memory follows what the buffers actually hold. Not thread-safe:
// the store serialises allocate/free; the bytes of an allocated buffer belong to its user.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace moescope::offload {

class ExpertArena {
 public:
  // n_buffers >= 1 buffers of at least buffer_bytes each (rounded up to whole pages).
  ExpertArena(int32_t n_buffers, uint64_t buffer_bytes);
  ~ExpertArena();
  ExpertArena(const ExpertArena&) = delete;
  ExpertArena& operator=(const ExpertArena&) = delete;

  int32_t n_buffers() const { return n_buffers_; }
  uint64_t buffer_bytes() const { return stride_; }
  uint64_t mapped_bytes() const { return stride_ * static_cast<uint64_t>(n_buffers_); }
  int32_t n_free() const { return static_cast<int32_t>(free_.size()); }
  int32_t max_in_use() const { return max_in_use_; }

  // A free buffer for `bytes` (<= buffer_bytes()), or -1 if none is free.
  int32_t allocate(uint64_t bytes);
  void free(int32_t buffer);
  std::span<std::byte> buffer(int32_t i, uint64_t bytes) const {
    return {base_ + stride_ * static_cast<uint64_t>(i), bytes};
  }

 private:
  static constexpr uint64_t kHugePage = uint64_t{2} << 20;
  // The mapping: base_'s buffers and a huge page of slack to align them on.
  uint64_t reserved_bytes() const { return mapped_bytes() + kHugePage; }
  std::byte* reservation_ = nullptr;
  std::byte* base_ = nullptr;  // [n_buffers][stride_], huge-page aligned
  int32_t n_buffers_ = 0;
  uint64_t stride_ = 0;
  uint64_t page_ = 0;
  std::vector<int32_t> free_;     // stack of free buffers
  std::vector<uint64_t> extent_;  // [n_buffers] bytes possibly committed at the buffer's start
  int32_t max_in_use_ = 0;
};

}  // namespace moescope::offload
