#pragma once
// A loaded MoE model and its forward pass (the agreed Model API, see docs in notes/model-api.md).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "engine/gguf/gguf_file.h"
#include "engine/model/expert_provider.h"
#include "engine/model/hparams.h"
#include "engine/model/inference_state.h"
#include "engine/model/moe_observer.h"
#include "engine/model/routing_override.h"
#include "engine/tensor/matmul.h"
#include "engine/tensor/thread_pool.h"

namespace moescope {

struct ModelWeights;
struct ForwardBatch;
class MoeBlock;
class Workspace;

struct ModelOptions {
  int n_threads = 0;                                  // 0 = default_thread_count()
  MatmulPrecision precision = MatmulPrecision::Fast;  // --exact selects Exact
  int n_ctx = 0;                                      // 0 = min(context_length, 4096)
  ExpertProvider* experts = nullptr;  // nullptr = serve experts from the mapped file
  MoeObserver* observer = nullptr;    // per-token/layer routing callbacks, may be null
};

// One sequence's part of a batched forward call: its new tokens and its own state.
struct SequenceTokens {
  std::span<const int32_t> tokens;
  InferenceState* state = nullptr;
};

class Model {
 public:
  // Opens, checks and maps the model. Throws moescope::Error naming the file and the problem.
  static std::unique_ptr<Model> load(const std::filesystem::path& path,
                                     const ModelOptions& options);
  static std::unique_ptr<Model> load(gguf::GgufFile file, const ModelOptions& options);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelHParams& hparams() const { return hp_; }
  const gguf::GgufFile& file() const { return file_; }
  int n_vocab() const { return static_cast<int>(hp_.n_vocab); }
  int n_ctx() const { return n_ctx_; }
  MatmulPrecision precision() const { return precision_; }
  ThreadPool& thread_pool() { return *pool_; }

  std::unique_ptr<InferenceState> new_state() const;

  // Processes `tokens` at positions state.n_past() .. n_past+n-1, appends to the KV cache, and
  // writes logits to `logits`: [n][n_vocab] if all_logits, else [1][n_vocab] for the last token.
  // Throws moescope::Error if the context would overflow (message names n_ctx), for token ids
  // outside the vocabulary, or a logits span that is too small; the state is unchanged then.
  void forward(std::span<const int32_t> tokens, InferenceState& state, std::span<float> logits,
               bool all_logits);

  // Continuous batching: several sequences in one call, each sequence's tokens at its own
  // positions and appended to its own KV cache. Attention stays within a sequence; projections and
  // the MoE block see every row together (each expert runs once over all the rows that chose it).
  // logits: [n_sequences][n_vocab], each sequence's last token. Each sequence gets bit-identical
  // logits to Model::forward of the same tokens on its state alone (products whose rounding
  // depends on the batch size are computed per sequence). The observer hears one forward call:
  // on_forward_begin(TokenPos(0), total rows) and routing events whose pos is the row in the
  // call. Every family (llama, deepseek2, gpt-oss). Throws like forward (state unchanged), also
  // for a state given twice.
  void forward_batch(std::span<const SequenceTokens> sequences, std::span<float> logits);

  void set_observer(MoeObserver* observer) { observer_ = observer; }
  MoeObserver* observer() const { return observer_; }
  // Lossy gating variants (routing_override.h); nullptr = the model's own routing.
  void set_routing_override(RoutingOverride* routing) { routing_ = routing; }
  RoutingOverride* routing_override() const { return routing_; }
  // nullptr restores the default provider that serves experts from the mapped file.
  void set_expert_provider(ExpertProvider* experts);
  // Per layer, the tensors holding its routed experts (all null for dense layers): what an
  // expert store needs to load (layer, expert) on its own.
  const std::vector<LayerExpertTensors>& expert_tensors() const;
  // The non-expert weights, read-only (e.g. later layers' routers for next-gate prefetching).
  const ModelWeights& weights() const;

 private:
  Model(gguf::GgufFile file, const ModelOptions& options);
  void check_tokens(std::span<const int32_t> tokens, const InferenceState& state) const;
  void run_forward(const ForwardBatch& batch);

  gguf::GgufFile file_;
  ModelHParams hp_;
  std::unique_ptr<ModelWeights> weights_;
  int n_ctx_ = 0;
  int64_t kv_k_width0_ = 0;  // identifies states made by this model
  MatmulPrecision precision_ = MatmulPrecision::Fast;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<MappedExpertProvider> mapped_experts_;
  ExpertProvider* experts_ = nullptr;
  MoeObserver* observer_ = nullptr;
  RoutingOverride* routing_ = nullptr;
  std::unique_ptr<Workspace> workspace_;
  std::unique_ptr<MoeBlock> moe_;
};

}  // namespace moescope
