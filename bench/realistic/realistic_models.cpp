#include "bench/realistic/realistic_models.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace moescope::bench {
namespace {

tools::SyntheticMoeSpec olmoe_like(GgmlType type) {
  tools::SyntheticMoeSpec s;
  s.n_layer = 16;
  s.n_embd = 2048;
  s.n_ff = 1024;
  s.n_expert = 64;
  s.n_expert_used = 8;
  s.n_vocab = 32000;
  s.n_head = 16;
  s.n_head_kv = 4;
  s.n_ctx = 4096;
  s.weight_type = type;
  // Q4_K's quantizer searches scales; quantizing 3.8 GB of rows would take hours on a loaded
  // machine. Rows drawn from 256 quantized rows per tensor read the same bytes at the same speed.
  if (type == GgmlType::Q4_K) s.row_pool = 256;
  return s;
}

tools::SyntheticMoeSpec deepseek_like() {
  tools::SyntheticMoeSpec s = olmoe_like(GgmlType::Q8_0);
  s.n_expert_used = 6;
  s.n_expert_shared = 2;
  s.n_layer_dense_lead = 1;
  s.n_ff_dense = 4096;
  s.q_lora_rank = 512;
  s.kv_lora_rank = 512;
  return s;
}

}  // namespace

std::vector<RealisticModel> realistic_models() {
  // The version suffix changes whenever a spec or the generator's output changes, so that a
  // cache of older files is not reused.
  return {
      {"olmoe-like-q8_0-v1", "64 experts top-8, ff 1024, 16 layers, Q8_0",
       olmoe_like(GgmlType::Q8_0)},
      {"olmoe-like-q4_k-v1", "64 experts top-8, ff 1024, 16 layers, Q4_K",
       olmoe_like(GgmlType::Q4_K)},
      {"deepseek-like-q8_0-v1", "MLA, 1 dense + 15 MoE layers, 64 experts top-6 + 2 shared, Q8_0",
       deepseek_like()},
  };
}

std::filesystem::path default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "moescope-bench";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : ".") / ".cache" / "moescope-bench";
}

std::filesystem::path ensure_model(const RealisticModel& model,
                                   const std::filesystem::path& cache_dir) {
  const auto path = cache_dir / (model.name + ".gguf");
  if (std::filesystem::exists(path)) return path;  // written by rename, so complete
  std::filesystem::create_directories(cache_dir);
  const auto sizes = tools::synthetic_moe_sizes(model.spec);
  std::fprintf(stderr, "generating %s (%.2f GB) ...\n", path.c_str(),
               double(sizes.expert_bytes + sizes.non_expert_bytes) / 1e9);
  const auto start = std::chrono::steady_clock::now();
  tools::write_synthetic_moe(model.spec, path);
  std::fprintf(stderr, "  done in %.0f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return path;
}

}  // namespace moescope::bench
