// bench_offload [MODEL] [--budgets 100,50,25,12.5] [--prefetchers none,same-prev,affinity:2]
//               [--links none,nvme] [--policy lru] [--prompt 16] [--decode 32] [--threads 2]
//               [--pack FILE] [--read cache|direct|dropcache] [--repeat N]
// Decode tokens/s with experts offloaded at budgets given as % of the model's expert bytes, for
// every prefetcher and link, next to the fully resident run; prints a Markdown table, then per
// link and budget on-demand LRU (no prefetcher) against the best prefetcher. Without MODEL it
// generates a synthetic MoE (8 layers, 16 experts of 1.6 MiB) in $TMPDIR. With --repeat N the
// whole set of configurations runs N times, interleaved (round after round, a fresh store each
// time, so that a shared machine's load spreads over all of them), and medians are reported.
// Prefetchers spelled "<spec>+cost" are gated by the prefetch cost model (prefetch_gate.h). The
// stall columns compare the measured wall-clock stall with the one the decision core modelled
// for the same steps (same link, the layers' measured compute times); --read direct reads every
// expert from the device (O_DIRECT) and reports its measured read bandwidth. `CPU ms/token` is
// the process's CPU time (compute threads, loader, waits) per decoded token.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/offload/expert_store.h"
#include "tools/make_synthetic_model/synthetic_model.h"

namespace moescope {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

struct Result {
  double tok_s = 0;
  double hit_rate = 0;
  double stall_ms_per_token = 0;
  double mib_per_token = 0;
  double load_ms_per_token = 0;  // the loader's busy time (I/O, link pacing, decompression)
  double precision = 0;
  double modelled_stall_ms_per_token = 0;  // the decision core's, same steps and link
  double read_gb_s = 0;                    // slow-tier bytes / time reading them
  double cpu_ms_per_token = 0;             // the process's CPU time (all its threads) per token
};

// CPU time of the whole process (compute threads and loader), to set beside the wall clock: on a
// shared machine it says what the run cost even when the wall time says mostly who else ran.
double process_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

// Prefill, then `n_decode` greedy tokens; tokens/s of the decode part.
Result run(Model& model, int n_prompt, int n_decode, offload::ExpertStore* store) {
  const int V = model.n_vocab();
  std::vector<int32_t> tokens;
  for (int i = 0; i < n_prompt; ++i) tokens.push_back(int32_t((i * 7919 + 1) % V));
  auto state = model.new_state();
  std::vector<float> logits(static_cast<size_t>(V));
  model.forward(tokens, *state, logits, false);
  policy::CacheCounters before;
  offload::StoreStats stats_before;
  if (store != nullptr) {
    store->wait_idle();
    before = store->decisions().phase[1];
    stats_before = store->stats();
  }
  const auto t0 = Clock::now();
  const double cpu0 = process_cpu_seconds();
  for (int i = 0; i < n_decode; ++i) {
    const int32_t next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    model.forward(std::span(&next, 1), *state, logits, false);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  Result r;
  r.tok_s = n_decode / seconds;
  r.cpu_ms_per_token = (process_cpu_seconds() - cpu0) * 1e3 / n_decode;
  if (store != nullptr) {
    const policy::CacheCounters decode = store->decisions().phase[1];
    const offload::StoreStats s = store->stats();
    const int64_t accesses = decode.accesses - before.accesses;
    r.hit_rate = accesses ? double(decode.hits - before.hits) / double(accesses) : 0;
    const int64_t predicted = decode.prefetch_predicted - before.prefetch_predicted;
    r.precision =
        predicted ? double(decode.prefetch_correct - before.prefetch_correct) / double(predicted)
                  : 0;
    r.stall_ms_per_token = (s.stall_ns - stats_before.stall_ns) / 1e6 / n_decode;
    r.mib_per_token = double(s.link_bytes - stats_before.link_bytes) / (1 << 20) / n_decode;
    r.load_ms_per_token = (s.load_ns - stats_before.load_ns) / 1e6 / n_decode;
    r.modelled_stall_ms_per_token = double(decode.stall_ns - before.stall_ns) / 1e6 / n_decode;
    const int64_t read_ns = s.read_ns - stats_before.read_ns;
    r.read_gb_s =
        read_ns > 0 ? double(s.link_bytes - stats_before.link_bytes) / double(read_ns) : 0;
  }
  return r;
}

int main_impl(int argc, char** argv) {
  std::string model_path, pack;
  offload::SlowTierRead read = offload::SlowTierRead::kPageCache;
  std::vector<std::string> budgets = {"100", "50", "25", "12.5"};
  std::vector<std::string> prefetchers = {"none", "same-prev", "affinity:2", "freq:2", "next-gate"};
  std::vector<std::string> links = {"none", "nvme"};
  std::string policy = "lru";
  int n_prompt = 16, n_decode = 32, n_threads = 2, repeat = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      model_path = a;
      continue;
    }
    if (i + 1 >= argc) fail("{} needs a value", a);
    const std::string v = argv[++i];
    if (a == "--budgets")
      budgets = split(v);
    else if (a == "--prefetchers")
      prefetchers = split(v);
    else if (a == "--links")
      links = split(v);
    else if (a == "--policy")
      policy = v;
    else if (a == "--prompt")
      n_prompt = std::max(1, std::atoi(v.c_str()));
    else if (a == "--decode")
      n_decode = std::max(1, std::atoi(v.c_str()));
    else if (a == "--threads")
      n_threads = std::max(1, std::atoi(v.c_str()));
    else if (a == "--pack")
      pack = v;
    else if (a == "--read")
      read = offload::parse_slow_tier_read(v);
    else if (a == "--repeat")
      repeat = std::max(1, std::atoi(v.c_str()));
    else
      fail("unknown option '{}'", a);
  }
  if (model_path.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    const auto dir = std::filesystem::path(tmp ? tmp : "/tmp");
    model_path = (dir / "moescope-bench-synthetic.gguf").string();
    if (!std::filesystem::exists(model_path)) {
      tools::SyntheticMoeSpec spec;
      spec.n_embd = 512;
      spec.n_ff = 1024;
      std::fprintf(stderr, "writing %s\n", model_path.c_str());
      tools::write_synthetic_moe(spec, model_path);
    }
  }

  ModelOptions options;
  options.n_threads = n_threads;
  options.n_ctx = n_prompt + n_decode + 1;
  auto model = Model::load(model_path, options);
  const offload::ExpertLayout layout(model->file(), model->expert_tensors(),
                                     int32_t(model->hparams().n_expert_used));
  std::printf("model: %s, %d MoE layers x %d experts, top-%lld, experts %s\n", model_path.c_str(),
              layout.n_layers(), layout.n_expert(MoeLayerId(0)),
              (long long)model->hparams().n_expert_used,
              offload::format_bytes(layout.total_bytes()).c_str());
  std::printf("decode of %d tokens after a %d-token prompt, %d threads, policy %s%s, reads %s\n\n",
              n_decode, n_prompt, n_threads, policy.c_str(), pack.empty() ? "" : ", expert pack",
              std::string(offload::slow_tier_read_name(read)).c_str());

  run(*model, n_prompt, n_decode, nullptr);  // warm the page cache and the mapping

  struct Config {
    std::string link, budget, prefetcher;  // all empty: the resident run
    std::vector<Result> samples;
  };
  std::vector<Config> configs{{}};
  for (const std::string& link : links)
    for (const std::string& budget : budgets) {
      const double pct = std::atof(budget.c_str());
      if (!(pct > 0)) fail("budget '{}' is not a percentage", budget);
      for (const std::string& prefetcher : prefetchers)
        configs.push_back({link, budget, prefetcher, {}});
    }
  for (int round = 0; round < repeat; ++round) {
    for (Config& c : configs) {
      if (c.link.empty()) {
        c.samples.push_back(run(*model, n_prompt, n_decode, nullptr));
        continue;
      }
      offload::OffloadConfig config;
      config.policy = policy;
      config.prefetcher = c.prefetcher;
      config.link = policy::LinkModel::preset(c.link);
      config.budget = policy::Budget::bytes(
          uint64_t(double(layout.total_bytes()) * std::atof(c.budget.c_str()) / 100));
      config.pack = pack;
      config.read = read;
      auto store = offload::ExpertStore::attach(*model, config);
      c.samples.push_back(run(*model, n_prompt, n_decode, store.get()));
      store->detach(*model);
    }
    std::fprintf(stderr, "round %d of %d done\n", round + 1, repeat);
  }
  // The sample with the median tokens/s stands for its configuration.
  auto median = [](std::vector<Result> v) {
    std::sort(v.begin(), v.end(),
              [](const Result& a, const Result& b) { return a.tok_s < b.tok_s; });
    Result m = v[v.size() / 2];
    if (v.size() % 2 == 0) m.tok_s = (v[v.size() / 2 - 1].tok_s + v[v.size() / 2].tok_s) / 2;
    return m;
  };
  const Result resident = median(configs[0].samples);
  std::printf("median of %d interleaved runs per configuration\n\n", repeat);
  std::printf(
      "| link | budget | prefetcher | tok/s | vs resident | decode hit rate | precision | "
      "stall ms/token | modelled stall | measured/modelled | loader ms/token | MiB loaded/token | "
      "read GB/s | CPU ms/token |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::printf("| - | resident | - | %.2f | 1.00 | - | - | - | - | - | - | - | - | %.2f |\n",
              resident.tok_s, resident.cpu_ms_per_token);
  for (size_t i = 1; i < configs.size(); ++i) {
    const Config& c = configs[i];
    const Result r = median(c.samples);
    const double ratio = r.modelled_stall_ms_per_token > 0
                             ? r.stall_ms_per_token / r.modelled_stall_ms_per_token
                             : 0.0;
    std::printf(
        "| %s | %s %% | %s | %.2f | %.2f | %.3f | %.3f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f "
        "| %.2f |\n",
        c.link.c_str(), c.budget.c_str(), c.prefetcher.c_str(), r.tok_s, r.tok_s / resident.tok_s,
        r.hit_rate, r.precision, r.stall_ms_per_token, r.modelled_stall_ms_per_token, ratio,
        r.load_ms_per_token, r.mib_per_token, r.read_gb_s, r.cpu_ms_per_token);
  }
  std::printf("\n| link | budget | on-demand %s tok/s | best prefetcher | its tok/s | speed-up |\n",
              policy.c_str());
  std::printf("|---|---|---|---|---|---|\n");
  for (const std::string& link : links)
    for (const std::string& budget : budgets) {
      double base = 0, best = 0;
      std::string best_name = "-";
      for (const Config& c : configs) {
        if (c.link != link || c.budget != budget) continue;
        const double t = median(c.samples).tok_s;
        if (c.prefetcher == "none") {
          base = t;
        } else if (t > best) {
          best = t;
          best_name = c.prefetcher;
        }
      }
      std::printf("| %s | %s %% | %.2f | %s | %.2f | %.2f |\n", link.c_str(), budget.c_str(), base,
                  best_name.c_str(), best, base > 0 ? best / base : 0.0);
    }
  return 0;
}

}  // namespace
}  // namespace moescope

int main(int argc, char** argv) {
  try {
    return moescope::main_impl(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_offload: %s\n", e.what());
    return 1;
  }
}
