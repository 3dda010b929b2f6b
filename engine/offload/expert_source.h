#pragma once
// The slow tier: where an expert's bytes come from when the store loads it. One loader thread
// reads at a time, so a source may keep per-load scratch without locking.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "engine/offload/expert_layout.h"
#include "engine/offload/offload_config.h"

namespace moescope::offload {

struct ReadCost {
  uint64_t link_bytes = 0;    // bytes that crossed the link (stored size)
  int64_t decompress_ns = 0;  // CPU time spent decoding them, 0 for raw reads
};

class ExpertSource {
 public:
  virtual ~ExpertSource() = default;
  // Bytes one load of (moe_layer, expert) moves over the link; the pacer charges this.
  virtual uint64_t link_bytes(MoeLayerId moe_layer, int32_t expert) const = 0;
  // Moves the expert's stored bytes over the link (into `out` for raw sources, into the source's
  // own staging buffer for compressed ones) and returns how many bytes that was.
  virtual uint64_t fetch(MoeLayerId moe_layer, int32_t expert, std::span<std::byte> out) = 0;
  // Finishes the load: `out` then holds the packed image of the expert (exactly
  // layout.packed_bytes(moe_layer) bytes, padding between parts zeroed). Returns the CPU time it
  // took (decompression), 0 for raw sources. Split from fetch() so that the loader can pace the
  // transfer before it spends CPU on decoding.
  virtual int64_t decode(MoeLayerId moe_layer, int32_t expert, std::span<std::byte> out) = 0;
  // Whether fetch and decode may run on two threads at once (the loader's and the forward
  // pass's): true for reads without state of their own; otherwise the caller serialises them.
  virtual bool concurrent_reads() const { return false; }
  // Both halves. Errors (I/O, corrupt data) throw moescope::Error naming the file. Sources are
  // used from one thread at a time unless concurrent_reads().
  ReadCost read(MoeLayerId moe_layer, int32_t expert, std::span<std::byte> out) {
    ReadCost cost;
    cost.link_bytes = fetch(moe_layer, expert, out);
    cost.decompress_ns = decode(moe_layer, expert, out);
    return cost;
  }
};

// Experts read straight from the GGUF file with pread(), part by part, never through the
// mapping. Gives up the mapping's pages of expert tensors (madvise DONTNEED) so that memory
// touched by an earlier resident run does not count. `read` says whether the page cache may
// serve a load (SlowTierRead): with kDirect the file is opened a second time with O_DIRECT and
// each part is read in whole aligned blocks into a bounce buffer; a file system without O_DIRECT
// is a one-line error that names the kDropCache fallback.
class GgufExpertSource final : public ExpertSource {
 public:
  explicit GgufExpertSource(const ExpertLayout& layout,
                            SlowTierRead read = SlowTierRead::kPageCache);
  ~GgufExpertSource() override;
  GgufExpertSource(const GgufExpertSource&) = delete;
  GgufExpertSource& operator=(const GgufExpertSource&) = delete;

  uint64_t link_bytes(MoeLayerId moe_layer, int32_t expert) const override;
  uint64_t fetch(MoeLayerId moe_layer, int32_t expert, std::span<std::byte> out) override;
  int64_t decode(MoeLayerId, int32_t, std::span<std::byte>) override { return 0; }
  // pread into the caller's buffer; O_DIRECT goes through the one bounce buffer.
  bool concurrent_reads() const override { return read_ != SlowTierRead::kDirect; }

 private:
  // One part's bytes at `offset` of the file into `out`, as `read_` says.
  void read_part(std::span<std::byte> out, uint64_t offset);
  void read_direct(std::span<std::byte> out, uint64_t offset);

  const ExpertLayout& layout_;
  SlowTierRead read_;
  int fd_;
  int direct_fd_ = -1;
  std::byte* bounce_ = nullptr;  // aligned, for O_DIRECT
  uint64_t bounce_bytes_ = 0;
};

// pread() of exactly out.size() bytes at offset; throws moescope::Error naming `what` on errors
// and on end of file.
void pread_exact(int fd, std::span<std::byte> out, uint64_t offset, const std::string& what);

// Drops the pages of the mapping that lie wholly inside expert tensors, so that they stop
// counting as resident memory (they fault back in from the file if anyone reads them).
void release_mapped_experts(const ExpertLayout& layout);

}  // namespace moescope::offload
