// One-token decode of a GGUF model through Model::forward (token ids, so no tokenizer needed):
// tokens per second and the weight bytes streamed per second, for memory-bound models whose
// weights do not fit the caches (e.g. tools/make_synthetic_model's 64-expert top-8 shapes).
//
//   bench_decode_model --model FILE [--threads T] [--steps D] [--rounds R] [--prompt P]
//
// Each round starts a fresh sequence with a P-token prompt (not timed), then times D decode
// steps. Bytes per token = every tensor read by a decode step: the non-expert matrices whole,
// n_expert_used / n_expert of each routed-expert tensor, the token embedding's one row ignored.
// Rates per second of wall time and of the process's CPU time (on a shared machine the wall time
// mostly measures waiting for a core; with --threads 1 the CPU time is the one thread's work). The
// medians over the rounds are printed last; compare builds by running them alternately.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/error.h"
#include "engine/model/model.h"

namespace moescope {
namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  std::string model;
  int threads = 1;
  int steps = 16;
  int rounds = 5;
  int prompt = 4;
};

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) fail("{} needs a value", a);
    const char* v = argv[++i];
    if (a == "--model") {
      c.model = v;
    } else if (a == "--threads") {
      c.threads = std::atoi(v);
    } else if (a == "--steps") {
      c.steps = std::atoi(v);
    } else if (a == "--rounds") {
      c.rounds = std::atoi(v);
    } else if (a == "--prompt") {
      c.prompt = std::atoi(v);
    } else {
      fail("unknown flag {}", a);
    }
  }
  if (c.model.empty()) fail("--model FILE is required");
  if (c.threads < 1 || c.steps < 1 || c.rounds < 1 || c.prompt < 1) {
    fail("--threads, --steps, --rounds and --prompt must be positive");
  }
  return c;
}

// Weight bytes one decode step reads.
double bytes_per_token(const Model& model) {
  const auto& hp = model.hparams();
  double bytes = 0;
  for (const auto& t : model.file().tensors()) {
    if (t.name == "token_embd.weight") continue;
    const bool routed = t.name.find("_exps") != std::string::npos;
    bytes += routed ? double(t.n_bytes) * double(hp.n_expert_used) / double(hp.n_expert)
                    : double(t.n_bytes);
  }
  return bytes;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Seconds {
  double wall = 0;
  double cpu = 0;
};

int32_t token_id(int round, int pos, int n_vocab) {
  return int32_t((round * 7919 + pos * 104729 + 13) % n_vocab);
}

// Seconds for `steps` decode tokens after a fresh prompt.
Seconds time_round(Model& model, const Config& c, int round) {
  auto state = model.new_state();
  std::vector<float> logits(size_t(model.n_vocab()));
  std::vector<int32_t> prompt;
  for (int p = 0; p < c.prompt; ++p) prompt.push_back(token_id(round, p, model.n_vocab()));
  model.forward(prompt, *state, logits, false);
  const auto start = Clock::now();
  const double cpu_start = process_cpu_seconds();
  for (int d = 0; d < c.steps; ++d) {
    const int32_t next = token_id(round, c.prompt + d, model.n_vocab());
    model.forward({&next, 1}, *state, logits, false);
  }
  return {std::chrono::duration<double>(Clock::now() - start).count(),
          process_cpu_seconds() - cpu_start};
}

int run(const Config& c) {
  ModelOptions options;
  options.n_threads = c.threads;
  auto model = Model::load(c.model, options);
  const double bytes = bytes_per_token(*model);
  {
    // Not timed: a 64-token prompt touches (almost) every expert, so that the rounds do not pay
    // for mapping the file's pages.
    auto state = model->new_state();
    std::vector<float> logits(size_t(model->n_vocab()));
    std::vector<int32_t> prompt;
    for (int p = 0; p < 64; ++p) prompt.push_back(token_id(1000, p, model->n_vocab()));
    model->forward(prompt, *state, logits, false);
  }
  std::printf("model %s: %.3f GB read per decode token, %d threads, %d steps per round\n",
              c.model.c_str(), bytes / 1e9, c.threads, c.steps);
  std::vector<double> wall, cpu;
  for (int r = 0; r < c.rounds; ++r) {
    const Seconds s = time_round(*model, c, r);
    wall.push_back(c.steps / s.wall);
    cpu.push_back(c.steps / s.cpu);
    std::printf("round %d: %.2f tok/s (%.2f GB/s), %.2f tok/CPU-s (%.2f GB/CPU-s)\n", r,
                wall.back(), wall.back() * bytes / 1e9, cpu.back(), cpu.back() * bytes / 1e9);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  const double w = wall[wall.size() / 2], u = cpu[cpu.size() / 2];
  std::printf("median: %.2f tok/s (%.2f GB/s), %.2f tok/CPU-s (%.2f GB/CPU-s)\n", w,
              w * bytes / 1e9, u, u * bytes / 1e9);
  return 0;
}

}  // namespace
}  // namespace moescope

int main(int argc, char** argv) {
  try {
    return moescope::run(moescope::parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_decode_model: %s\n", e.what());
    return 1;
  }
}
