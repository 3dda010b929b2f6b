#pragma once
// The seam between the MoE block and wherever routed-expert weights live. The forward pass never
// touches expert tensors directly: for every selected expert it asks its ExpertProvider for
// (layer, expert), uses the returned views, and releases them. The default provider serves slices
// of the memory-mapped GGUF file; the offloading store serves copies from a bounded arena.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "engine/common/ids.h"
#include "engine/gguf/gguf_file.h"
#include "engine/tensor/matmul.h"

namespace moescope {

// The tensors that can make up a routed expert, in the order a packed copy stores them.
enum class ExpertPart { Gate, Up, Down, GateUp, GateBias, UpBias, DownBias };
inline constexpr size_t kExpertPartCount = 7;
// Each part of a packed expert starts at a multiple of this many bytes.
inline constexpr uint64_t kPackedExpertAlignment = 64;

// One layer's routed-expert tensors. Weights are 3-D {cols, rows, n_expert}, biases 2-D
// {n, n_expert}; the expert index is the slowest dimension, so expert e's slice of a part starts
// at e * slice_bytes(part) within the tensor.
struct LayerExpertTensors {
  std::array<const gguf::TensorInfo*, kExpertPartCount> parts{};  // null when absent

  const gguf::TensorInfo* part(ExpertPart p) const { return parts[static_cast<size_t>(p)]; }
  bool has(ExpertPart p) const { return part(p) != nullptr; }
  int64_t n_expert() const;
  // Bytes of one expert's slice of part p (0 when absent).
  uint64_t slice_bytes(ExpertPart p) const;
  // Where part p starts inside a packed expert, and the packed expert's total size.
  uint64_t packed_offset(ExpertPart p) const;
  uint64_t packed_bytes() const;
};

// Views of one expert's weights. A part is absent when its data is null. Biases are one row:
// gate/up biases [n_ff], down bias [n_embd].
struct ExpertWeights {
  WeightView gate{};     // [n_ff][n_embd]
  WeightView up{};       // [n_ff][n_embd]
  WeightView down{};     // [n_embd][n_ff]
  WeightView gate_up{};  // [2 * n_ff][n_embd]: gate rows then up rows (fused files)
  WeightView gate_bias{};
  WeightView up_bias{};
  WeightView down_bias{};
};

// Views of expert e inside the tensors' own storage (`tensor_base[p]` = first byte of part p's
// tensor, may be null for absent parts).
ExpertWeights expert_views(const LayerExpertTensors& tensors,
                           const std::array<const std::byte*, kExpertPartCount>& tensor_base,
                           ExpertId expert);
// Views of an expert copied into one buffer laid out by packed_offset().
ExpertWeights packed_expert_views(const LayerExpertTensors& tensors, const std::byte* packed);

class ExpertProvider {
 public:
  virtual ~ExpertProvider() = default;

  // The MoE block is about to acquire these experts of `layer`, in this order; a store can start
  // loading all of them now. Prefetchers that look further ahead hook in through MoeObserver.
  virtual void hint_upcoming(LayerId layer, std::span<const ExpertId> experts) {
    (void)layer;
    (void)experts;
  }
  // Of `pending` (experts of `layer` announced by hint_upcoming and not yet run, in the block's
  // order), the index of the one to run next. The default keeps the block's order; a store that
  // loads in the background answers with one already in memory and waits only while none is, so
  // that compute on resident experts overlaps the loads still on the link. The order never
  // changes the block's output: every expert writes its own (token, slot) rows, summed in top-k
  // order afterwards.
  virtual size_t next_to_run(LayerId layer, std::span<const ExpertId> pending) {
    (void)layer;
    (void)pending;
    return 0;
  }
  // Of `pending` (as for next_to_run), moves the experts whose weights are in memory now to its
  // front, in the block's order otherwise, and returns how many (at least 1; 0 only for an empty
  // span), waiting only while none is. The MoE block acquires those together, whatever
  // max_held() says (they are in memory: holding them waits for nothing), and runs them in one
  // parallel region per projection while the rest load. The default: next_to_run's pick, alone.
  virtual size_t take_ready(LayerId layer, std::span<ExpertId> pending) {
    if (pending.empty()) return 0;
    const size_t j = next_to_run(layer, pending);
    if (j >= pending.size()) return 0;
    std::rotate(pending.begin(), pending.begin() + std::ptrdiff_t(j),
                pending.begin() + std::ptrdiff_t(j) + 1);
    return 1;
  }
  // The weights of (layer, expert), valid until the matching release(). May block until they are
  // loaded: that wait is the stall time. The MoE block holds at most max_held() experts at a time.
  virtual ExpertWeights acquire(LayerId layer, ExpertId expert) = 0;
  virtual void release(LayerId layer, ExpertId expert) = 0;
  // How many experts may be acquired and not yet released at once. With more than one, a decode
  // step acquires its top-k experts together and runs them in one parallel region per projection.
  virtual int64_t max_held() const { return 1; }
};

// Serves experts straight from the memory-mapped file.
class MappedExpertProvider final : public ExpertProvider {
 public:
  MappedExpertProvider(const gguf::GgufFile& file, const std::vector<LayerExpertTensors>& layers);
  ExpertWeights acquire(LayerId layer, ExpertId expert) override;
  void release(LayerId, ExpertId) override {}
  // Views of the mapping: nothing runs out however many are held.
  int64_t max_held() const override { return std::numeric_limits<int64_t>::max(); }

 private:
  const std::vector<LayerExpertTensors>& layers_;
  std::vector<std::array<const std::byte*, kExpertPartCount>> bases_;  // [n_layer]
};

}  // namespace moescope
