// offload_probe MODEL [--expert-budget SIZE | --expert-slots N] [--policy P] [--prefetch P]
//               [--link PRESET] [--expert-pack FILE] [--prompt N] [--decode N] [--threads N]
// Runs a prompt and a greedy decode on MODEL with experts offloaded (or resident when neither
// budget flag is given) and prints key=value lines: sizes, speed, the store's counters and the
// process's peak RSS. tools/check_offload_rss.sh runs it under /usr/bin/time -v.
// offload_probe MODEL --write-pack FILE writes MODEL's expert pack instead (as moescope pack).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/offload/expert_pack.h"
#include "engine/offload/expert_store.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

int to_int(const std::string& flag, const char* v) {
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (end == v || *end != '\0' || n < 0) moescope::fail("{} needs a number, got '{}'", flag, v);
  return int(n);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace moescope;
  try {
    if (argc < 2) fail("usage: offload_probe MODEL [options]");
    const std::string path = argv[1];
    offload::OffloadFlags flags;
    int n_prompt = 16, n_decode = 32, n_threads = 2;
    std::string write_pack;
    for (int i = 2; i < argc; ++i) {
      const std::string a = argv[i];
      if (i + 1 >= argc) fail("{} needs a value", a);
      const char* v = argv[++i];
      if (a == "--expert-budget")
        flags.expert_budget = v;
      else if (a == "--expert-slots")
        flags.expert_slots = v;
      else if (a == "--policy")
        flags.policy = v;
      else if (a == "--prefetch")
        flags.prefetch = v;
      else if (a == "--link")
        flags.link = v;
      else if (a == "--expert-pack")
        flags.expert_pack = v;
      else if (a == "--prompt")
        n_prompt = std::max(1, to_int(a, v));
      else if (a == "--decode")
        n_decode = to_int(a, v);
      else if (a == "--threads")
        n_threads = std::max(1, to_int(a, v));
      else if (a == "--write-pack")
        write_pack = v;
      else
        fail("unknown option '{}'", a);
    }

    ModelOptions options;
    options.n_threads = n_threads;
    options.n_ctx = n_prompt + n_decode + 1;
    auto model = Model::load(path, options);
    if (!write_pack.empty()) {
      const offload::ExpertLayout layout(model->file(), model->expert_tensors(),
                                         int32_t(model->hparams().n_expert_used));
      const auto summary = offload::write_expert_pack(layout, write_pack);
      std::printf("pack=%s\nexperts=%lld\nraw_bytes=%llu\nstored_bytes=%llu\n", write_pack.c_str(),
                  (long long)summary.n_experts, (unsigned long long)summary.raw_bytes,
                  (unsigned long long)summary.stored_bytes);
      return 0;
    }
    std::unique_ptr<offload::ExpertStore> store;
    if (flags.any())
      store = offload::ExpertStore::attach(*model, offload::make_offload_config(flags));

    uint64_t expert_bytes = 0;
    for (const auto& t : model->expert_tensors())
      for (const auto* p : t.parts)
        if (p != nullptr) expert_bytes += p->n_bytes;

    const int V = model->n_vocab();
    std::vector<int32_t> tokens;
    for (int i = 0; i < n_prompt; ++i) tokens.push_back(int32_t((i * 7919 + 1) % V));
    auto state = model->new_state();
    std::vector<float> logits(static_cast<size_t>(V));
    const auto t0 = Clock::now();
    model->forward(tokens, *state, logits, false);
    const double prefill_ms = ms_since(t0);
    const auto t1 = Clock::now();
    for (int i = 0; i < n_decode; ++i) {
      const int32_t next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
      model->forward(std::span(&next, 1), *state, logits, false);
    }
    const double decode_ms = ms_since(t1);

    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf("model=%s\nfile_bytes=%llu\nexpert_bytes=%llu\nnon_expert_bytes=%llu\n",
                path.c_str(), (unsigned long long)model->file().file_size(),
                (unsigned long long)expert_bytes,
                (unsigned long long)(model->file().file_size() - expert_bytes));
    std::printf("prefill_ms=%.2f\ndecode_ms=%.2f\ndecode_tok_s=%.3f\n", prefill_ms, decode_ms,
                n_decode > 0 ? n_decode / (decode_ms / 1e3) : 0.0);
    if (store) {
      const auto s = store->stats();
      const auto c = store->decisions().total();
      std::printf(
          "policy=%s\nbudget_bytes=%llu\narena_buffers=%d\nbuffer_bytes=%llu\n"
          "arena_bytes=%llu\nloads=%lld\nlink_bytes=%lld\nstall_ms=%.2f\nhit_rate=%.4f\n",
          store->policy_name().c_str(),
          (unsigned long long)(s.buffers - s.scratch_buffers) * s.buffer_bytes, s.buffers,
          (unsigned long long)s.buffer_bytes, (unsigned long long)s.buffers * s.buffer_bytes,
          (long long)s.loads, (long long)s.link_bytes, s.stall_ns / 1e6, c.hit_rate());
      store->detach(*model);
    }
    std::printf("peak_rss_kib=%ld\n", ru.ru_maxrss);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "offload_probe: %s\n", e.what());
    return 1;
  }
}
