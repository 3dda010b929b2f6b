#include "engine/model/model.h"

#include <algorithm>

#include "engine/common/error.h"
#include "engine/model/forward.h"
#include "engine/model/model_check.h"
#include "engine/model/moe_block.h"
#include "engine/model/weights.h"
#include "engine/model/workspace.h"

namespace moescope {
namespace {

constexpr int64_t kDefaultMaxCtx = 4096;

KvLayout kv_layout(const ModelHParams& hp) {
  KvLayout layout;
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    if (hp.arch == Architecture::Deepseek2 && hp.is_mla()) {
      layout.k_width.push_back(hp.kv_lora_rank + hp.n_rot);  // one latent + k_pe per position
      layout.v_width.push_back(0);                           // V reads the latent
    } else if (hp.arch == Architecture::Deepseek2) {
      layout.k_width.push_back(hp.n_head(il) * hp.head_dim_k);
      layout.v_width.push_back(hp.n_head(il) * hp.head_dim_v);
    } else {
      layout.k_width.push_back(hp.n_head_kv(il) * hp.head_dim_k);
      layout.v_width.push_back(hp.n_head_kv(il) * hp.head_dim_v);
    }
  }
  return layout;
}

}  // namespace

std::unique_ptr<Model> Model::load(const std::filesystem::path& path, const ModelOptions& options) {
  return load(gguf::GgufFile::open(path), options);
}

std::unique_ptr<Model> Model::load(gguf::GgufFile file, const ModelOptions& options) {
  return std::unique_ptr<Model>(new Model(std::move(file), options));
}

Model::Model(gguf::GgufFile file, const ModelOptions& options) : file_(std::move(file)) {
  CheckedModel checked = check_model(file_);
  hp_ = std::move(checked.hp);
  weights_ = std::make_unique<ModelWeights>(std::move(checked.weights));

  if (options.n_ctx < 0) fail("n_ctx must not be negative (got {})", options.n_ctx);
  n_ctx_ = options.n_ctx > 0 ? options.n_ctx
                             : static_cast<int>(std::min(hp_.n_ctx_train, kDefaultMaxCtx));
  // phimoe longrope: llama.cpp picks the long factors when the context exceeds the original one.
  if (!weights_->rope_long.empty() || !weights_->rope_short.empty()) {
    weights_->rope_freqs =
        n_ctx_ > hp_.n_ctx_orig_yarn ? weights_->rope_long : weights_->rope_short;
  }

  precision_ = options.precision;
  pool_ = std::make_unique<ThreadPool>(options.n_threads > 0 ? options.n_threads
                                                             : default_thread_count());
  mapped_experts_ = std::make_unique<MappedExpertProvider>(file_, weights_->experts);
  experts_ = options.experts != nullptr ? options.experts : mapped_experts_.get();
  observer_ = options.observer;
  kv_k_width0_ = kv_layout(hp_).k_width[0];
  workspace_ = std::make_unique<Workspace>();
  moe_ = std::make_unique<MoeBlock>();
}

Model::~Model() = default;

std::unique_ptr<InferenceState> Model::new_state() const {
  return std::make_unique<InferenceState>(kv_layout(hp_), n_ctx_);
}

void Model::set_expert_provider(ExpertProvider* experts) {
  experts_ = experts != nullptr ? experts : mapped_experts_.get();
}

const std::vector<LayerExpertTensors>& Model::expert_tensors() const {
  return weights_->experts;
}

const ModelWeights& Model::weights() const {
  return *weights_;
}

void Model::check_tokens(std::span<const int32_t> tokens, const InferenceState& state) const {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) fail("forward needs at least one token");
  if (state.n_ctx() != n_ctx_ || state.k_width(0) != kv_k_width0_) {
    fail("the inference state belongs to another model");
  }
  if (state.n_past() + n > n_ctx_) {
    fail("context overflow: {} cached + {} new tokens exceed n_ctx {}", state.n_past(), n, n_ctx_);
  }
  for (int32_t id : tokens) {
    if (id < 0 || id >= hp_.n_vocab) {
      fail("token id {} is out of range (the vocabulary has {} tokens)", id, hp_.n_vocab);
    }
  }
}

void Model::forward(std::span<const int32_t> tokens, InferenceState& state, std::span<float> logits,
                    bool all_logits) {
  check_tokens(tokens, state);
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t rows = all_logits ? n : 1;
  if (static_cast<int64_t>(logits.size()) < rows * hp_.n_vocab) {
    fail("logits buffer holds {} floats, {} needed", logits.size(), rows * hp_.n_vocab);
  }
  state.reserve(state.n_past() + n);
  const SequenceRows seq{0, n, state.n_past(), &state};
  run_forward(ForwardBatch{tokens, {&seq, 1}, all_logits, logits.data()});
}

void Model::forward_batch(std::span<const SequenceTokens> sequences, std::span<float> logits) {
  if (sequences.empty()) fail("forward needs at least one sequence");
  const auto n_seq = static_cast<int64_t>(sequences.size());
  if (static_cast<int64_t>(logits.size()) < n_seq * hp_.n_vocab) {
    fail("logits buffer holds {} floats, {} needed", logits.size(), n_seq * hp_.n_vocab);
  }
  std::vector<SequenceRows> rows;
  std::vector<int32_t> tokens;
  for (const SequenceTokens& s : sequences) {
    if (s.state == nullptr) fail("a sequence of the batch has no state");
    check_tokens(s.tokens, *s.state);
    for (const SequenceRows& r : rows) {
      if (r.state == s.state) fail("a sequence appears twice in one batched forward call");
    }
    const auto n = static_cast<int64_t>(s.tokens.size());
    rows.push_back({static_cast<int64_t>(tokens.size()), n, s.state->n_past(), s.state});
    tokens.insert(tokens.end(), s.tokens.begin(), s.tokens.end());
  }
  for (const SequenceRows& r : rows) r.state->reserve(r.first_pos + r.n);
  run_forward(ForwardBatch{tokens, rows, /*all_logits=*/false, logits.data()});
}

void Model::run_forward(const ForwardBatch& batch) {
  const auto n = static_cast<int>(batch.tokens.size());
  ForwardEnv env{*pool_, precision_, *experts_, observer_, *workspace_, *moe_, routing_};
  if (batch.sequences.size() > 1) env.sequences = batch.sequences;
  if (observer_ != nullptr) observer_->on_forward_begin(TokenPos(int32_t(batch.event_pos0())), n);
  switch (hp_.arch) {
    case Architecture::Deepseek2:
      forward_deepseek2(hp_, *weights_, batch, env);
      break;
    case Architecture::GptOss:
      forward_gpt_oss(hp_, *weights_, batch, env);
      break;
    default:
      forward_llama(hp_, *weights_, batch, env);
      break;
  }
  for (const SequenceRows& s : batch.sequences) s.state->advance(static_cast<int>(s.n));
  if (observer_ != nullptr) observer_->on_forward_end();
}

}  // namespace moescope
