// The synthetic MoE generator (tools/make_synthetic_model) writes a model the engine runs, with
// the sizes it promises, and offloading it is exact too.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <string>

#include "engine/common/error.h"
#include "engine/offload/expert_store.h"
#include "engine/tokenizer/tokenizer.h"
#include "tests/engine/offload/offload_test_util.h"
#include "tools/make_synthetic_model/synthetic_model.h"
#include "tools/make_synthetic_model/synthetic_vocab.h"

namespace moescope::offload {
namespace {

std::vector<float> run(Model& model) {
  const int64_t V = model.n_vocab();
  std::vector<int32_t> tokens = {1, 5, 9, 33, 2, 60, 17};
  auto state = model.new_state();
  std::vector<float> logits(tokens.size() * size_t(V));
  model.forward(tokens, *state, logits, true);
  for (int i = 0; i < 4; ++i) {
    std::vector<float> step(static_cast<size_t>(V));
    const int32_t t = int32_t(i * 13 % V);
    model.forward(std::span(&t, 1), *state, step, false);
    logits.insert(logits.end(), step.begin(), step.end());
  }
  return logits;
}

tools::SyntheticMoeSpec small_spec() {
  tools::SyntheticMoeSpec spec;
  spec.n_layer = 3;
  spec.n_embd = 64;
  spec.n_ff = 96;
  spec.n_expert = 6;
  spec.n_expert_used = 2;
  spec.n_vocab = 600;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  return spec;
}

TEST(SyntheticModel, RunsResidentAndOffloadedIdentically) {
  const tools::SyntheticMoeSpec spec = small_spec();
  const auto path = test::temp_dir() / "synthetic.gguf";
  const tools::SyntheticMoeSizes sizes = tools::write_synthetic_moe(spec, path);

  ModelOptions options;
  options.n_threads = 2;
  auto model = Model::load(path, options);
  const ExpertLayout layout = test::layout_of(*model);
  EXPECT_EQ(layout.n_layers(), 3);
  EXPECT_EQ(layout.total_experts(), 18);
  EXPECT_EQ(layout.total_bytes(), sizes.expert_bytes);  // Q8_0 slices are 64-byte multiples
  // The file is the header plus the tensors (alignment padding at most 31 bytes per tensor).
  const uint64_t tensors = sizes.expert_bytes + sizes.non_expert_bytes;
  EXPECT_LE(model->file().data_offset() + tensors, model->file().file_size());
  EXPECT_LE(model->file().file_size(),
            model->file().data_offset() + tensors + 32 * model->file().tensors().size());

  const std::vector<float> resident = run(*model);
  for (float v : resident) ASSERT_TRUE(std::isfinite(v));
  OffloadConfig config;
  config.capacity = policy::CacheCapacity::uniform(3, 1);
  auto store = ExpertStore::attach(*model, config);
  const std::vector<float> offloaded = run(*model);
  store->detach(*model);
  ASSERT_EQ(offloaded.size(), resident.size());
  EXPECT_EQ(std::memcmp(offloaded.data(), resident.data(), resident.size() * sizeof(float)), 0);
  EXPECT_GT(store->decisions().total().misses, 0);
}

// The file carries a SentencePiece vocabulary of exactly n_vocab tokens laid out as Llama's, so
// that llama.cpp loads it too, and any text round-trips through MoEScope's tokenizer.
TEST(SyntheticModel, WritesATokenizerThatRoundTripsText) {
  const auto path = test::temp_dir() / "synthetic-tokenizer.gguf";
  tools::write_synthetic_moe(small_spec(), path);
  ModelOptions options;
  options.n_threads = 1;
  auto model = Model::load(path, options);
  auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());
  ASSERT_EQ(tokenizer->n_vocab(), 600);
  EXPECT_EQ(tokenizer->bos(), 1);
  EXPECT_EQ(tokenizer->eos(), 2);
  EXPECT_EQ(tokenizer->token_piece(3 + 0x0A, false), "\n");  // <0x0A>, llama.cpp's newline
  // Hand-derived ids: 259 "▁", 260 + 2 * (c - '!') a printable character c and the next id "▁"c;
  // letter pairs from 260 + 188 = 448 ("aa", "▁aa", "ab", "▁ab", ...).
  EXPECT_EQ(tokenizer->encode("a", false, false), std::vector<int32_t>{260 + 2 * ('a' - '!') + 1});
  EXPECT_EQ(tokenizer->encode("ab", false, false), std::vector<int32_t>{451});
  EXPECT_EQ(tokenizer->encode("ab", true, false), (std::vector<int32_t>{1, 451}));
  for (const std::string text : {"Hello, world!", "two  spaces\nand a tab\t",
                                 "ünïcode ✓ 漢字 🙂", "x", "1234567890"}) {
    const std::vector<int32_t> ids = tokenizer->encode(text, true, false);
    for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < 600) << text;
    EXPECT_EQ(ids.front(), 1);
    // Decoding drops SentencePiece's added leading space, as llama.cpp's detokenizer does.
    EXPECT_EQ(tokenizer->decode(std::span(ids).subspan(1)), text);
  }
}

TEST(SyntheticModel, VocabularyIsDistinctAtAnySize) {
  for (int64_t n : {3, 64, 259, 1000, 32000}) {
    const tools::SyntheticVocab v = tools::make_synthetic_vocab(n);
    ASSERT_EQ(int64_t(v.tokens.size()), n);
    ASSERT_EQ(v.scores.size(), v.tokens.size());
    ASSERT_EQ(v.token_type.size(), v.tokens.size());
    std::set<std::string> distinct(v.tokens.begin(), v.tokens.end());
    EXPECT_EQ(int64_t(distinct.size()), n);
  }
  EXPECT_THROW(tools::make_synthetic_vocab(2), moescope::Error);
}

// With a row pool, every row of a matrix past the first N is a byte copy of one of them (and the
// file still runs); without one, rows are distinct.
TEST(SyntheticModel, RowPoolCopiesQuantizedRows) {
  tools::SyntheticMoeSpec spec = small_spec();
  spec.n_embd = 256;
  spec.n_ff = 256;
  spec.weight_type = GgmlType::Q4_K;
  for (const int64_t pool : {int64_t(0), int64_t(4)}) {
    spec.row_pool = pool;
    const auto path = test::temp_dir() / ("synthetic-pool" + std::to_string(pool) + ".gguf");
    tools::write_synthetic_moe(spec, path);
    ModelOptions options;
    options.n_threads = 1;
    auto model = Model::load(path, options);
    const gguf::TensorInfo* up = model->file().find_tensor("blk.1.ffn_up_exps.weight");
    ASSERT_NE(up, nullptr);
    const auto bytes = model->file().tensor_data(*up);
    const size_t row = 144;  // one Q4_K block of 256 values
    std::set<std::string> rows;
    for (size_t at = 0; at < bytes.size(); at += row) {
      rows.emplace(reinterpret_cast<const char*>(bytes.data() + at), row);
    }
    EXPECT_EQ(rows.size(), pool == 0 ? bytes.size() / row : size_t(pool));
    for (float v : run(*model)) ASSERT_TRUE(std::isfinite(v));
  }
}

// The DeepSeek layout (MLA with a compressed query, a dense leading block, shared experts) loads
// as deepseek2, runs, and its routed experts are the bytes the sizes promise.
TEST(SyntheticModel, DeepseekLayoutWithSharedExpertsRuns) {
  tools::SyntheticMoeSpec spec = small_spec();
  spec.n_head_kv = spec.n_head;
  spec.n_expert_shared = 2;
  spec.n_layer_dense_lead = 1;
  spec.n_ff_dense = 128;
  spec.q_lora_rank = 32;
  spec.kv_lora_rank = 32;
  spec.head_dim_nope = 16;
  spec.head_dim_rope = 8;
  spec.head_dim_v = 16;
  const auto path = test::temp_dir() / "synthetic-deepseek.gguf";
  const tools::SyntheticMoeSizes sizes = tools::write_synthetic_moe(spec, path);
  ModelOptions options;
  options.n_threads = 1;
  auto model = Model::load(path, options);
  EXPECT_EQ(model->hparams().architecture, "deepseek2");
  EXPECT_EQ(model->hparams().n_expert_shared, 2);
  EXPECT_EQ(model->hparams().n_layer_dense_lead, 1);
  const ExpertLayout layout = test::layout_of(*model);
  EXPECT_EQ(layout.n_layers(), 2);  // the dense block has no experts
  EXPECT_EQ(layout.total_bytes(), sizes.expert_bytes);
  // One decode token: every non-expert byte but the embedding's other rows, and 2 of 6 experts.
  const uint64_t embd = 600 * (64 / 32 * 34);  // Q8_0: 34 bytes per 32 values
  EXPECT_EQ(sizes.decode_bytes,
            sizes.non_expert_bytes - embd + embd / 600 + sizes.expert_bytes / 3);
  for (float v : run(*model)) ASSERT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace moescope::offload
