// The synthetic MoE generator (tools/make_synthetic_model) writes a model the engine runs, with
// the sizes it promises, and offloading it is exact too.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "engine/offload/expert_store.h"
#include "tests/engine/offload/offload_test_util.h"
#include "tools/make_synthetic_model/synthetic_model.h"

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

TEST(SyntheticModel, RunsResidentAndOffloadedIdentically) {
  tools::SyntheticMoeSpec spec;
  spec.n_layer = 3;
  spec.n_embd = 64;
  spec.n_ff = 96;
  spec.n_expert = 6;
  spec.n_expert_used = 2;
  spec.n_vocab = 64;
  spec.n_head = 4;
  spec.n_head_kv = 2;
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

}  // namespace
}  // namespace moescope::offload
