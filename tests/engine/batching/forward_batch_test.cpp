// Model::forward_batch: several sequences in one call give each sequence the logits it gets
// alone, bit for bit, on f32 models, where products of 16 or more rows go through sgemm (whose
// rounding may depend on the batch) and the forward pass has to split them per sequence; on every
// family, deepseek2's latent attention (MLA, with and without q-lora) included.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/model/model.h"

namespace moescope::test {
namespace {

std::unique_ptr<Model> open(const std::string& name) {
  ModelOptions options;
  options.n_threads = 2;
  return Model::load(std::string(MOESCOPE_SHARED_DIR) + "/reference/models/" + name + ".gguf",
                     options);
}

// n ids spread over the vocabulary, different per sequence.
std::vector<int32_t> ids(const Model& m, int n, int seed) {
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) out.push_back((i * 37 + seed * 101 + 5) % m.n_vocab());
  return out;
}

// Each sequence runs these chunks, one per call: the first call mixes long prefills with short
// ones; the second mixes decode tokens with a 16-token chunk and a sequence that joins late.
const std::vector<std::vector<int>> kChunks = {{20, 1, 1}, {3, 16, 1}, {17, 1}, {0, 5, 1}};

TEST(ForwardBatch, EachSequenceGetsItsSoloLogitsBitForBit) {
  for (const std::string name :
       {"llama-moe-f32", "qwen2moe-f32", "gpt-oss-f32", "olmoe-f32", "llama-moe-q8_0",
        "deepseek2-lite-f32", "deepseek2-v3-f32", "deepseek2-lite-q8_0"}) {
    SCOPED_TRACE(name);
    auto m = open(name);
    const auto V = static_cast<size_t>(m->n_vocab());
    const size_t n_seq = kChunks.size();
    std::vector<std::vector<int32_t>> tokens;
    for (size_t s = 0; s < n_seq; ++s) tokens.push_back(ids(*m, 64, int(s)));

    // Alone: chunk by chunk with Model::forward; the last-token logits of every chunk.
    std::vector<std::vector<std::vector<float>>> solo(n_seq);
    for (size_t s = 0; s < n_seq; ++s) {
      auto state = m->new_state();
      int pos = 0;
      for (int n : kChunks[s]) {
        if (n == 0) continue;
        std::vector<float> logits(V);
        m->forward({tokens[s].data() + pos, size_t(n)}, *state, logits, false);
        solo[s].push_back(logits);
        pos += n;
      }
    }

    // Together: call c takes chunk c of every sequence that has one.
    std::vector<std::unique_ptr<InferenceState>> states;
    for (size_t s = 0; s < n_seq; ++s) states.push_back(m->new_state());
    std::vector<int> pos(n_seq, 0);
    std::vector<size_t> done(n_seq, 0);
    for (size_t call = 0; call < 3; ++call) {
      std::vector<SequenceTokens> batch;
      std::vector<size_t> who;
      for (size_t s = 0; s < n_seq; ++s) {
        if (call >= kChunks[s].size() || kChunks[s][call] == 0) continue;
        batch.push_back({{tokens[s].data() + pos[s], size_t(kChunks[s][call])}, states[s].get()});
        who.push_back(s);
      }
      std::vector<float> logits(batch.size() * V);
      m->forward_batch(batch, logits);
      for (size_t i = 0; i < who.size(); ++i) {
        const size_t s = who[i];
        const std::vector<float> got(logits.begin() + i * V, logits.begin() + (i + 1) * V);
        EXPECT_EQ(got, solo[s][done[s]]) << "sequence " << s << " call " << call;
        ++done[s];
        pos[s] += kChunks[s][call];
        EXPECT_EQ(states[s]->n_past(), pos[s]);
      }
    }
  }
}

TEST(ForwardBatch, RefusesBadBatchesAndLeavesStatesUnchanged) {
  auto m = open("llama-moe-f32");
  auto a = m->new_state();
  auto b = m->new_state();
  const std::vector<int32_t> t = {1, 2, 3};
  std::vector<float> logits(2 * size_t(m->n_vocab()));
  const std::vector<SequenceTokens> twice = {{t, a.get()}, {t, a.get()}};
  EXPECT_THROW(m->forward_batch(twice, logits), Error);
  const std::vector<int32_t> bad = {1, m->n_vocab()};
  const std::vector<SequenceTokens> out_of_range = {{t, a.get()}, {bad, b.get()}};
  EXPECT_THROW(m->forward_batch(out_of_range, logits), Error);
  std::vector<float> small(size_t(m->n_vocab()));
  const std::vector<SequenceTokens> two = {{t, a.get()}, {t, b.get()}};
  EXPECT_THROW(m->forward_batch(two, small), Error);
  EXPECT_EQ(a->n_past(), 0);
  EXPECT_EQ(b->n_past(), 0);
}

}  // namespace
}  // namespace moescope::test
