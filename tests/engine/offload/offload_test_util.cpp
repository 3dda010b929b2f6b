#include "tests/engine/offload/offload_test_util.h"

#include <algorithm>
#include <span>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>

namespace moescope::test {
namespace {

std::filesystem::path temp_path() {
  return std::filesystem::path(MOESCOPE_BINARY_DIR) / "test_offload_tmp" /
         std::to_string(::getpid());
}

// Removes this process's scratch files when the tests end.
class TempDirCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(temp_path(), ec);
  }
};
[[maybe_unused]] ::testing::Environment* const kCleanup =
    ::testing::AddGlobalTestEnvironment(new TempDirCleanup);

}  // namespace

std::filesystem::path reference_model(const std::string& name) {
  return std::filesystem::path(MOESCOPE_SHARED_DIR) / "reference" / "models" / (name + ".gguf");
}

std::filesystem::path temp_dir() {
  const auto dir =
      std::filesystem::path(MOESCOPE_BINARY_DIR) / "test_offload_tmp" / std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  return dir;
}

std::unique_ptr<Model> load_model(const std::string& name, int n_threads) {
  ModelOptions options;
  options.n_threads = n_threads;
  return Model::load(reference_model(name), options);
}

offload::ExpertLayout layout_of(const Model& model) {
  return offload::ExpertLayout(model.file(), model.expert_tensors(),
                               static_cast<int32_t>(model.hparams().n_expert_used));
}

std::vector<std::byte> expected_image(const offload::ExpertLayout& layout, int32_t m, int32_t e) {
  const LayerExpertTensors& t = layout.tensors(MoeLayerId(m));
  std::vector<std::byte> out(t.packed_bytes(), std::byte{0});
  for (size_t i = 0; i < kExpertPartCount; ++i) {
    const auto p = static_cast<ExpertPart>(i);
    if (!t.has(p)) continue;
    const auto data = layout.file().tensor_data(*t.part(p));
    const uint64_t n = t.slice_bytes(p);
    std::memcpy(out.data() + t.packed_offset(p), data.data() + uint64_t(e) * n, n);
  }
  return out;
}

bool views_hold(const offload::ExpertLayout& layout, int32_t m, int32_t e, const ExpertWeights& w) {
  const LayerExpertTensors& t = layout.tensors(MoeLayerId(m));
  const std::vector<std::byte> image = expected_image(layout, m, e);
  const WeightView* views[kExpertPartCount] = {&w.gate,      &w.up,      &w.down,     &w.gate_up,
                                               &w.gate_bias, &w.up_bias, &w.down_bias};
  for (size_t i = 0; i < kExpertPartCount; ++i) {
    const auto p = static_cast<ExpertPart>(i);
    if (!t.has(p)) {
      if (views[i]->data != nullptr) return false;
      continue;
    }
    const auto* data = static_cast<const std::byte*>(views[i]->data);
    if (data == nullptr ||
        std::memcmp(data, image.data() + t.packed_offset(p), t.slice_bytes(p)) != 0) {
      return false;
    }
  }
  return true;
}

GenRun greedy_run(Model& model, int n_prompt, int mul, int add, int n_decode) {
  GenRun run;
  const int64_t V = model.n_vocab();
  for (int i = 0; i < n_prompt; ++i) run.tokens.push_back(int32_t((int64_t(i) * mul + add) % V));
  auto state = model.new_state();
  run.logits.resize(run.tokens.size() * size_t(V));
  model.forward(run.tokens, *state, run.logits, true);
  std::vector<float> step(static_cast<size_t>(V));
  const float* last = run.logits.data() + (run.tokens.size() - 1) * size_t(V);
  int32_t next = int32_t(std::max_element(last, last + V) - last);
  for (int i = 0; i < n_decode; ++i) {
    run.tokens.push_back(next);
    model.forward(std::span(&run.tokens.back(), 1), *state, step, false);
    run.logits.insert(run.logits.end(), step.begin(), step.end());
    next = int32_t(std::max_element(step.begin(), step.end()) - step.begin());
  }
  return run;
}

}  // namespace moescope::test
