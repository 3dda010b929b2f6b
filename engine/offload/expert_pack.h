#pragma once
// Expert packs: every routed expert of a model as its own zstd frame, so that a load reads one
// contiguous compressed range and decompression is part of the load cost.
//
// Layout (little endian):
//   header   64 bytes: "MOESPACK", u32 version (1), u32 header size (64), u64 file size,
//            u64 index offset, u64 index stored size, u64 index raw size, 16 zero bytes
//   frames   one zstd frame (content size and checksum set) per expert, holding the expert's
//            packed image (LayerExpertTensors::packed_offset layout, padding zeroed)
//   index    one zstd frame (checksummed) holding: u64 model file size, u32 MoE layers, per layer
//            the LayerRecord (model layer, experts, packed bytes, each part's kind, type, shape,
//            file offset and name), then per expert (layer-major) u64 frame offset, u64 frame size
// The index ties the pack to the tensors it was cut from: a pack of another model is refused.
// Packs are untrusted input: every size and offset is checked before use.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "engine/offload/expert_layout.h"
#include "engine/offload/expert_source.h"
#include "engine/offload/pack_index.h"

namespace moescope::offload {

struct PackOptions {
  int level = 3;  // zstd level
  // Called after each expert: (experts written, total experts).
  std::function<void(int64_t, int64_t)> progress;
};

struct PackSummary {
  int64_t n_experts = 0;
  uint64_t raw_bytes = 0;     // packed images, total
  uint64_t stored_bytes = 0;  // their frames, total
  uint64_t file_bytes = 0;
};

// Writes OUT.tmp, then renames it to OUT. Throws moescope::Error naming the path.
PackSummary write_expert_pack(const ExpertLayout& layout, const std::filesystem::path& out,
                              const PackOptions& options = {});

class ExpertPack {
 public:
  using Frame = PackFrame;

  // Opens and validates a pack against the model it must belong to. Throws moescope::Error of the
  // form "PACK: WHAT".
  static std::unique_ptr<ExpertPack> open(const std::filesystem::path& path,
                                          const ExpertLayout& layout);
  ~ExpertPack();
  ExpertPack(const ExpertPack&) = delete;
  ExpertPack& operator=(const ExpertPack&) = delete;

  const std::filesystem::path& path() const { return path_; }
  int fd() const { return fd_; }
  const Frame& frame(int64_t key_index) const { return frames_[key_index]; }
  uint64_t stored_bytes() const { return stored_bytes_; }

 private:
  ExpertPack() = default;

  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<Frame> frames_;  // [total experts], dense key order
  uint64_t stored_bytes_ = 0;
};

// Experts decompressed from a pack. Keeps one staging buffer for the compressed frame.
class PackExpertSource final : public ExpertSource {
 public:
  PackExpertSource(const ExpertLayout& layout, std::unique_ptr<ExpertPack> pack);
  ~PackExpertSource() override;

  uint64_t link_bytes(MoeLayerId moe_layer, int32_t expert) const override;
  uint64_t fetch(MoeLayerId moe_layer, int32_t expert, std::span<std::byte> out) override;
  int64_t decode(MoeLayerId moe_layer, int32_t expert, std::span<std::byte> out) override;
  const ExpertPack& pack() const { return *pack_; }

 private:
  const ExpertLayout& layout_;
  std::unique_ptr<ExpertPack> pack_;
  std::vector<std::byte> staging_;  // [max frame bytes]
  void* dctx_ = nullptr;            // ZSTD_DCtx
};

// Reads every expert back from the pack and compares it with the model file's bytes; throws
// moescope::Error at the first difference.
void verify_expert_pack(const ExpertLayout& layout, const std::filesystem::path& pack);

}  // namespace moescope::offload
