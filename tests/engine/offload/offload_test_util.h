#pragma once
// Shared by the offloading tests: reference models and the bytes an expert must have, read
// through the file's mapping (independently of the store's pread path).
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/model/expert_provider.h"
#include "engine/model/model.h"
#include "engine/offload/expert_layout.h"

namespace moescope::test {

std::filesystem::path reference_model(const std::string& name);
// A scratch directory for this test binary's files.
std::filesystem::path temp_dir();

std::unique_ptr<Model> load_model(const std::string& name, int n_threads = 2);
offload::ExpertLayout layout_of(const Model& model);

// Expert e of MoE layer m in packed layout, padding zero, copied from the mapping.
std::vector<std::byte> expected_image(const offload::ExpertLayout& layout, int32_t m, int32_t e);
// True when every present part of `w` holds exactly the bytes of that expert.
bool views_hold(const offload::ExpertLayout& layout, int32_t m, int32_t e, const ExpertWeights& w);

struct GenRun {
  std::vector<int32_t> tokens;  // prompt + generated
  std::vector<float> logits;    // every prompt position, then each decode step
};

// A fixed prompt of n_prompt ids ((i * mul + add) mod vocab) prefilled in one batch, then
// n_decode greedy decode steps.
GenRun greedy_run(Model& model, int n_prompt, int mul, int add, int n_decode);

}  // namespace moescope::test
