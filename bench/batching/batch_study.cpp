// The numbers of docs/batching.md, through the session pipeline's batched run on the built-in
// model:
//
//   bench_batch_study [--workload F.jsonl] [--text PPL.txt] [--max-batch B] [--n N] [--slots S]
//                     [--rounds R] [--ctx C]
//
// 1. FIFO vs expert-aware scheduling on the workload (default bench/workloads/mixed_topics.jsonl),
//    alternating R rounds, medians: distinct experts per (step, MoE layer), bytes loaded and hit
//    rate of the live expert cache (LRU, S slots), tokens/s, p95 TTFT. Checks that both give every
//    request the same tokens (scheduling is exact).
// 2. Capacity-Aware Inference (LOSSY) on the same batch at γ = 1.0 and 1.5, Token Drop and
//    Expanded Drop (m = 2), and Token Drop per device (4 devices): straggler factor (max/mean
//    tokens per expert, per device for the per-device rows) before and after,
//    dropped and rerouted routings, over the (step, MoE layer) pairs of several tokens.
// 3. Perplexity (llama-perplexity's method, chunks of C tokens, one forward call each, so a chunk
//    is the capacity's batch) exact and under each capacity variant, on --text.
// A harness, not a test: it prints Markdown tables and says what else was running is up to you.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "engine/batching/capacity_gating.h"
#include "engine/batching/workload.h"
#include "engine/model/model.h"
#include "engine/model/perplexity.h"
#include "engine/model/routing.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/tokenizer/tokenizer.h"
#include "storage/session/generation_session.h"

namespace {

using namespace moescope;

struct Args {
  std::string workload = MOESCOPE_SOURCE_DIR "/bench/workloads/mixed_topics.jsonl";
  std::string text;
  int max_batch = 6, n = 32, slots = 16, rounds = 3, ctx = 128;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--workload")
      a.workload = v;
    else if (k == "--text")
      a.text = v;
    else if (k == "--max-batch")
      a.max_batch = std::stoi(v);
    else if (k == "--n")
      a.n = std::stoi(v);
    else if (k == "--slots")
      a.slots = std::stoi(v);
    else if (k == "--rounds")
      a.rounds = std::stoi(v);
    else if (k == "--ctx")
      a.ctx = std::stoi(v);
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

std::vector<storage::GenerationRequest> read_workload(const Args& a) {
  std::ifstream in(a.workload);
  std::vector<storage::GenerationRequest> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    storage::GenerationRequest r;
    r.id = int64_t(out.size());
    r.prompt = nlohmann::json::parse(line).at("prompt").get<std::string>();
    r.options.max_new_tokens = a.n;
    r.options.sampling.temperature = 0;
    out.push_back(std::move(r));
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty()      ? 0
         : v.size() % 2 ? v[v.size() / 2]
                        : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct SchedulerRow {
  std::vector<double> distinct, mib, hit_rate, tokens_per_s, ttft_p95;
  size_t steps = 0;
  std::vector<std::vector<int32_t>> tokens;
};

void scheduler_table(Model& model, const tokenizer::Tokenizer& tok, const Args& a,
                     const std::vector<storage::GenerationRequest>& requests) {
  std::map<std::string, SchedulerRow> rows;
  const std::vector<std::string> schedulers = {"fifo", "expert-aware"};
  for (int round = 0; round < a.rounds; ++round) {
    for (const std::string& s : schedulers) {
      storage::SessionConfig config;
      offload::OffloadConfig offload;
      offload.budget = policy::Budget::slots(uint64_t(a.slots));
      config.offload = offload;
      storage::GenerationSession session(model, tok, config);
      storage::BatchConfig batch;
      batch.engine.scheduler = s;
      batch.engine.limits.max_batch = a.max_batch;
      storage::SessionListener quiet;
      const storage::BatchSessionResult r = session.run_batch(requests, batch, quiet);
      const batching::WorkloadSummary w =
          batching::summarize(r.requests, r.steps, r.total_ms, model.hparams().n_expert);
      double distinct = 0;
      int64_t cells = 0;
      for (const batching::StepStats& st : r.steps) {
        for (int32_t d : st.distinct_experts) {
          if (d == 0) continue;  // a dense layer
          distinct += d;
          ++cells;
        }
      }
      const policy::CacheCounters c = session.store()->decisions().total();
      SchedulerRow& row = rows[s];
      row.distinct.push_back(distinct / double(std::max<int64_t>(cells, 1)));
      row.mib.push_back(double(c.bytes_loaded) / (1 << 20));
      row.hit_rate.push_back(c.hit_rate());
      row.tokens_per_s.push_back(w.tokens_per_s);
      row.ttft_p95.push_back(w.ttft_p95);
      row.steps = r.steps.size();
      row.tokens.clear();
      for (const batching::RequestResult& q : r.requests) row.tokens.push_back(q.tokens);
    }
  }
  const bool exact = rows["fifo"].tokens == rows["expert-aware"].tokens;
  std::printf(
      "%zu requests, max batch %d, %d new tokens each (greedy), LRU with %d expert slots, "
      "median of %d alternating rounds; same tokens under both schedulers: %s\n\n",
      requests.size(), a.max_batch, a.n, a.slots, a.rounds, exact ? "yes" : "NO");
  std::printf(
      "| scheduler | steps | distinct experts per step-layer | bytes loaded (MiB) | "
      "hit rate | tokens/s | p95 TTFT (ms) |\n|---|---|---|---|---|---|---|\n");
  for (const std::string& s : schedulers) {
    const SchedulerRow& r = rows[s];
    std::printf("| %s | %zu | %.2f | %.1f | %.3f | %.1f | %.0f |\n", s.c_str(), r.steps,
                median(r.distinct), median(r.mib), median(r.hit_rate), median(r.tokens_per_s),
                median(r.ttft_p95));
  }
  std::printf("\n");
}

// Straggler and drops over the (step, layer) records of several tokens (one token has no limit).
batching::CapacityTotals batched_totals(const std::vector<batching::CapacityRecord>& records) {
  std::vector<batching::CapacityRecord> several;
  for (const auto& r : records)
    if (r.n_tokens > 1) several.push_back(r);
  return batching::capacity_totals(several);
}

void capacity_table(Model& model, const tokenizer::Tokenizer& tok, const Args& a,
                    const std::vector<storage::GenerationRequest>& requests) {
  // Per expert (Token Drop, Expanded Drop m = 2), then per device over 4 expert-parallel devices
  // (there the straggler factor is per device).
  const std::vector<batching::CapacityOptions> variants = {{1.0, 1}, {1.5, 1},    {1.0, 2},
                                                           {1.5, 2}, {1.0, 1, 4}, {1.5, 1, 4}};
  std::string perplexity_text;
  if (!a.text.empty()) {
    std::ifstream in(a.text);
    std::stringstream ss;
    ss << in.rdbuf();
    perplexity_text = ss.str();
  }
  PerplexityOptions po;
  po.n_ctx = a.ctx;
  double exact_ppl = 0;
  if (!perplexity_text.empty()) exact_ppl = compute_perplexity(model, tok, perplexity_text, po).ppl;
  std::printf(
      "Capacity-aware gating on the batch above (max batch %d, FIFO): (step, MoE layer) "
      "pairs of two or more tokens. Perplexity: chunks of %d tokens, exact PPL %.4f.\n\n",
      a.max_batch, a.ctx, exact_ppl);
  std::printf(
      "| variant | straggler before | straggler after | dropped routings | rerouted | "
      "PPL | ΔPPL |\n|---|---|---|---|---|---|---|\n");
  for (const batching::CapacityOptions& v : variants) {
    storage::SessionConfig config;
    storage::GenerationSession session(model, tok, config);
    storage::BatchConfig batch;
    batch.engine.limits.max_batch = a.max_batch;
    batch.capacity = v;
    storage::SessionListener quiet;
    const storage::BatchSessionResult r = session.run_batch(requests, batch, quiet);
    const batching::CapacityTotals t = batched_totals(r.capacity);
    double ppl = 0;
    if (!perplexity_text.empty()) {
      batching::CapacityGating gating(v, routing_params(model.hparams()));
      model.set_routing_override(&gating);
      ppl = compute_perplexity(model, tok, perplexity_text, po).ppl;
      model.set_routing_override(nullptr);
    }
    std::printf("| LOSSY %s | %.3f | %.3f | %.2f %% | %.2f %% | %.4f | %+.4f |\n",
                v.describe().c_str(), t.mean_straggler_before, t.mean_straggler_after,
                100 * t.dropped_fraction(), 100 * t.rerouted_fraction(), ppl, ppl - exact_ppl);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  ModelOptions mo;
  mo.n_threads = 2;
  auto model = Model::load(MOESCOPE_SOURCE_DIR "/resources/models/moescope-default-q8_0.gguf", mo);
  auto tok = tokenizer::Tokenizer::from_gguf(model->file());
  const auto requests = read_workload(a);
  const policy::MoeShape shape = routed_expert_shape(*model);
  std::printf("model: %d MoE layers x %d experts, top-%d\n\n", shape.n_layers(),
              shape.n_experts.front(), shape.top_k.front());
  scheduler_table(*model, *tok, a, requests);
  capacity_table(*model, *tok, a, requests);
  return 0;
}
