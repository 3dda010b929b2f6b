#pragma once
// The realistic benchmark's models: random weights in real MoE shapes, big enough that decode is
// bound by memory bandwidth, generated once with tools/make_synthetic_model into a cache directory
// outside the source tree.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tools/make_synthetic_model/synthetic_model.h"

namespace moescope::bench {

struct RealisticModel {
  std::string name;  // also the file's stem
  std::string description;
  tools::SyntheticMoeSpec spec;
};

// Mixtral/OLMoE-like (n_embd 2048, 16 layers, 64 experts top-8, expert ff 1024, vocab 32000) in
// Q8_0 and Q4_K, and DeepSeek-like (the same width, MLA, one dense block, 64 experts top-6 and
// two shared experts) in Q8_0.
std::vector<RealisticModel> realistic_models();

// ~/.cache/moescope-bench (XDG_CACHE_HOME when set).
std::filesystem::path default_cache_dir();
// The model's file in `cache_dir`, generated first when missing (prints what it does to stderr).
std::filesystem::path ensure_model(const RealisticModel& model,
                                   const std::filesystem::path& cache_dir);

}  // namespace moescope::bench
