// Decode throughput of N concurrent requests (one Model::forward_batch row each per step) vs one
// request (Model::forward of one token), on the default model and on a synthetic 64-expert
// model. The machine is shared and noisy: the two configurations alternate round by round and
// the medians are reported.
//
//   bench_batching [--rounds R] [--steps D] [--requests N] [--threads T] [--model-dir DIR]
//                  [--wide 1]
//
// Each round starts N fresh sequences with an 8-token prompt (not timed), then times D decode
// steps: all N sequences together, and one sequence alone. Tokens per second = decoded tokens
// (N·D, or D) over the wall time, and over the process's CPU time: on a shared machine the wall
// time mostly measures waiting for a core, the CPU time much less so (with --threads 1 it is the
// one thread's work).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/model/model.h"
#include "tools/make_synthetic_model/synthetic_model.h"

namespace moescope {
namespace {

using Clock = std::chrono::steady_clock;

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Decoded tokens per second of wall time and of CPU time.
struct Rate {
  double wall = 0;
  double cpu = 0;
};

struct Config {
  int rounds = 7;
  int steps = 32;
  int requests = 16;
  int threads = 2;
  bool wide = false;  // --wide 1: also a model too big for the caches (~230 MB)
  std::filesystem::path model_dir = std::filesystem::temp_directory_path();
};

int32_t token_id(int seq, int pos, int n_vocab) {
  return int32_t((seq * 7919 + pos * 104729 + 13) % n_vocab);
}

// Tokens per second of `steps` decode steps of `n` sequences together (n == 1: Model::forward).
Rate decode_rate(Model& model, int n, int steps) {
  std::vector<std::unique_ptr<InferenceState>> states;
  std::vector<float> logits(size_t(n) * model.n_vocab());
  for (int s = 0; s < n; ++s) {
    states.push_back(model.new_state());
    std::vector<int32_t> prompt;
    for (int p = 0; p < 8; ++p) prompt.push_back(token_id(s, p, model.n_vocab()));
    model.forward(prompt, *states.back(), {logits.data(), size_t(model.n_vocab())}, false);
  }
  std::vector<int32_t> next(n);
  const auto start = Clock::now();
  const double cpu_start = process_cpu_seconds();
  for (int d = 0; d < steps; ++d) {
    std::vector<SequenceTokens> batch;
    for (int s = 0; s < n; ++s) {
      next[s] = token_id(s, 8 + d, model.n_vocab());
      batch.push_back({{&next[s], 1}, states[s].get()});
    }
    if (n == 1) {
      model.forward(batch[0].tokens, *states[0], logits, false);
    } else {
      model.forward_batch(batch, logits);
    }
  }
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = process_cpu_seconds() - cpu_start;
  return {double(n) * steps / s, double(n) * steps / cpu};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void run(const std::string& name, const std::filesystem::path& path, const Config& c) {
  ModelOptions options;
  options.n_threads = c.threads;
  auto model = Model::load(path, options);
  const auto& hp = model->hparams();
  std::vector<double> one, many, one_cpu, many_cpu;
  for (int r = 0; r < c.rounds; ++r) {  // alternate, so drifts of the machine hit both
    Rate a, b;
    if (r % 2 == 0) {
      a = decode_rate(*model, 1, c.steps);
      b = decode_rate(*model, c.requests, c.steps);
    } else {
      b = decode_rate(*model, c.requests, c.steps);
      a = decode_rate(*model, 1, c.steps);
    }
    one.push_back(a.wall);
    many.push_back(b.wall);
    one_cpu.push_back(a.cpu);
    many_cpu.push_back(b.cpu);
  }
  const double m1 = median(one), mn = median(many);
  const double c1 = median(one_cpu), cn = median(many_cpu);
  std::printf(
      "| %s | %lld experts, top-%lld, %lld layers, d=%lld | %.1f | %.1f | %.2fx | %.1f | %.1f | "
      "%.2fx |\n",
      name.c_str(), static_cast<long long>(hp.n_expert), static_cast<long long>(hp.n_expert_used),
      static_cast<long long>(hp.n_layer), static_cast<long long>(hp.n_embd), m1, mn, mn / m1, c1,
      cn, cn / c1);
  std::fflush(stdout);
}

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (flag == "--rounds")
      c.rounds = std::max(1, v);
    else if (flag == "--steps")
      c.steps = std::max(1, v);
    else if (flag == "--requests")
      c.requests = std::max(2, v);
    else if (flag == "--threads")
      c.threads = std::max(1, v);
    else if (flag == "--wide")
      c.wide = v != 0;
    else if (flag == "--model-dir")
      c.model_dir = argv[i + 1];
    else {
      std::fprintf(stderr, "bench_batching: unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  return c;
}

}  // namespace
}  // namespace moescope

int main(int argc, char** argv) {
  using namespace moescope;
  const Config c = parse(argc, argv);
  tools::SyntheticMoeSpec spec;  // 64 experts, top-2, about the default model's width
  spec.n_layer = 6;
  spec.n_embd = 256;
  spec.n_ff = 256;
  spec.n_expert = 64;
  spec.n_expert_used = 2;
  spec.n_vocab = 4096;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_ctx = 256;
  const auto synthetic = c.model_dir / "moescope-bench-batching-64x.gguf";
  tools::write_synthetic_moe(spec, synthetic);
  std::printf(
      "decode tokens/s, median of %d interleaved rounds of %d steps, %d threads\n\n"
      "| model | shape | 1 request | %d requests | ratio | 1 request (CPU) | %d requests (CPU) | "
      "ratio (CPU) |\n|---|---|---|---|---|---|---|---|\n",
      c.rounds, c.steps, c.threads, c.requests, c.requests);
  run("default", MOESCOPE_SOURCE_DIR "/resources/models/moescope-default-q8_0.gguf", c);
  run("synthetic-64x", synthetic, c);
  std::filesystem::remove(synthetic);
  if (c.wide) {  // memory-bound decode: the weights do not stay in the caches
    spec.n_layer = 4;
    spec.n_embd = 1024;
    spec.n_ff = 1024;
    spec.n_expert = 16;
    spec.n_head = 8;
    spec.n_head_kv = 4;
    const auto wide = c.model_dir / "moescope-bench-batching-wide.gguf";
    tools::write_synthetic_moe(spec, wide);
    run("synthetic-wide", wide, c);
    std::filesystem::remove(wide);
  }
  return 0;
}
