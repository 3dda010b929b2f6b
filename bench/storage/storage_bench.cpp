// Trace storage: what recording costs the engine, and how fast a large trace is written and read.
//
//   Overhead/*       decode tokens/s of the real engine with tracing off and on, interleaved
//                    (off, on, on, off, ...), medians over the rounds; the default model when
//                    resources/models has it, else the reference llama-moe-q8_0.
//   Write100k        a synthetic 100k-token trace of a 32-layer, 8-expert, top-2 model (with a
//                    simulated LRU primary cache): write speed and file size.
//   Read/*           the reader's queries on that trace, as the CLI and the GUI issue them.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/model/generator.h"
#include "engine/model/model.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/tokenizer/tokenizer.h"
#include "storage/sqlite_db.h"
#include "storage/synthetic_recording.h"
#include "storage/trace_observer.h"
#include "storage/trace_reader.h"
#include "storage/trace_replay.h"

namespace moescope::storage {
namespace {

namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("moescope-bench-storage-" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir / name;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty()      ? 0
         : v.size() % 2 ? v[v.size() / 2]
                        : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// ---- recording overhead on the real engine
// -------------------------------------------------------

fs::path bench_model() {
  const fs::path def =
      fs::path(MOESCOPE_SOURCE_DIR) / "resources/models/moescope-default-q8_0.gguf";
  if (fs::exists(def)) return def;
  return fs::path(MOESCOPE_SHARED_DIR) / "reference/models/llama-moe-q8_0.gguf";
}

enum class Mode { kOff, kOn, kOnWithSimulation, kOnNice0 };

double g_writer_cpu_ns = 0, g_writer_tokens = 0;

// One generation; decode tokens/s. Every mode opens a trace, begins and finishes a run, so that
// file work outside the generation is the same; only the recording during it differs.
double generate_once(Model& model, const tokenizer::Tokenizer& tok,
                     const std::vector<int32_t>& prompt, int n_decode, Mode mode,
                     const fs::path& trace) {
  GenerationOptions options;
  options.max_new_tokens = n_decode;
  options.sampling.temperature = 0;
  Generator generator(model, tok);
  WriterOptions wo;
  if (mode == Mode::kOnNice0) wo.writer_nice = 0;
  TraceWriter writer(trace, wo);
  RunInfo info;
  info.model.path = model.file().path().string();
  info.model.architecture = model.hparams().architecture;
  info.model.quantization = "{}";
  info.model.shape = routed_expert_shape(model);
  writer.begin_run(info);
  if (mode == Mode::kOnWithSimulation) {
    PolicyDescription d;
    d.primary = true;
    d.capacity = policy::CacheCapacity::uniform(info.model.shape.n_layers(), 4);
    writer.simulate_policy(d, {}, true);
  }
  TraceObserver observer(writer);
  const bool on = mode != Mode::kOff;
  model.set_observer(on ? &observer : nullptr);
  if (on) writer.prompt("bench", prompt);
  writer.flush();
  const int64_t cpu0 = writer.stats().cpu_ns;
  const GenerationResult r = generator.generate(prompt, options, [&](const TokenEvent& e) {
    if (on) writer.generated(e);
  });
  model.set_observer(nullptr);
  writer.flush();
  if (mode == Mode::kOn) {
    g_writer_cpu_ns += double(writer.stats().cpu_ns - cpu0);
    g_writer_tokens += r.stats.n_prompt + r.stats.n_decoded;
  }
  writer.finish_run();
  return r.stats.decode_tokens_per_second();
}

void overhead(benchmark::State& state) {
  const int rounds = int(state.range(0));
  const int n_decode = int(state.range(1));
  ModelOptions mo;
  mo.n_threads = 2;
  auto model = Model::load(bench_model(), mo);
  auto tok = tokenizer::Tokenizer::from_gguf(model->file());
  Generator g(*model, *tok);
  const std::vector<int32_t> prompt =
      g.tokenize_prompt("It is a truth universally acknowledged, that a");
  const fs::path trace = scratch("overhead.sqlite");
  std::map<Mode, std::vector<double>> speed;
  std::vector<Mode> order = {Mode::kOff, Mode::kOn, Mode::kOnWithSimulation, Mode::kOnNice0};
  std::mt19937 rng(7);
  for (auto _ : state) {
    fs::remove(trace);
    generate_once(*model, *tok, prompt, n_decode, Mode::kOff, trace);  // warm up
    for (int r = 0; r < rounds; ++r) {
      // A fresh order every round, so that drifts in machine load hit every mode alike.
      std::shuffle(order.begin(), order.end(), rng);
      for (Mode m : order)
        speed[m].push_back(generate_once(*model, *tok, prompt, n_decode, m, trace));
    }
  }
  const double off = median(speed[Mode::kOff]);
  auto pct = [&](Mode m) { return 100.0 * (1.0 - median(speed[m]) / off); };
  state.counters["off_tok_s"] = off;
  state.counters["on_tok_s"] = median(speed[Mode::kOn]);
  state.counters["overhead_pct"] = pct(Mode::kOn);
  state.counters["overhead_sim_pct"] = pct(Mode::kOnWithSimulation);
  state.counters["overhead_nice0_pct"] = pct(Mode::kOnNice0);
  // The writer thread's CPU per recorded token (prefill included), and as a share of one core
  // at the untraced decode speed.
  const double us = g_writer_cpu_ns / 1e3 / std::max(1.0, g_writer_tokens);
  state.counters["writer_us_per_token"] = us;
  state.counters["writer_core_pct"] = 100.0 * us * 1e-6 * off;
  state.SetLabel(bench_model().filename().string());
}

// ---- a 100k-token trace
// --------------------------------------------------------------------------

SyntheticRecording big_recording() {
  SyntheticRecording w;
  w.spec.kind = policy::SyntheticSpec::Kind::kBursty;
  w.spec.n_layers = 32;
  w.spec.n_experts = 8;
  w.spec.top_k = 2;
  w.spec.n_tokens = 100'000;
  w.spec.n_prefill = 512;
  w.spec.affinity = 0.3;
  w.spec.seed = 7;
  w.policy = "lru";
  w.slots_per_layer = 4;
  return w;
}

const fs::path& big_trace() {
  static const fs::path path = [] {
    const fs::path p = scratch("trace-100k.sqlite");
    if (!fs::exists(p)) write_synthetic_trace(p, big_recording());
    return p;
  }();
  return path;
}

// range(0): 1 = with the simulated LRU cache (events, outcomes, counters), 0 = routing only.
void write_100k(benchmark::State& state) {
  const fs::path p = scratch("write-100k.sqlite");
  SyntheticRecording what = big_recording();
  if (state.range(0) == 0) what.policy.clear();
  int64_t rows = 0;
  double seconds = 0;
  for (auto _ : state) {
    fs::remove(p);
    const auto t0 = std::chrono::steady_clock::now();
    write_synthetic_trace(p, what);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double bytes = double(fs::file_size(p));
  {
    Database db(p, Database::Mode::kReadOnly);
    rows = db.query_int("SELECT sum(length(weights)) / 4 FROM routing");  // entries
    // Bytes per table, when SQLite was built with the dbstat table.
    try {
      Statement st(db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC");
      while (st.step()) {
        if (st.int64(1) > (1 << 20))
          state.counters["MiB_" + st.text(0)] = double(st.int64(1)) / (1 << 20);
      }
    } catch (const Error&) {
    }
  }
  state.counters["tokens_per_s"] = 1e5 / seconds;
  state.counters["file_MiB"] = bytes / (1 << 20);
  state.counters["bytes_per_token"] = bytes / 1e5;
  state.counters["routing_entries"] = double(rows);
}

// The writer thread's CPU per token in steady state, for a model shaped like the default one
// (6 MoE layers, 16 experts, top-2) and like the 32-layer one above; routing + layer timings.
void writer_cpu(benchmark::State& state) {
  SyntheticRecording what;
  what.spec.kind = policy::SyntheticSpec::Kind::kBursty;
  what.spec.n_layers = int32_t(state.range(0));
  what.spec.n_experts = int32_t(state.range(1));
  what.spec.top_k = 2;
  what.spec.n_tokens = 20'000;
  what.spec.n_prefill = 0;
  what.policy.clear();
  const fs::path p = scratch("writer-cpu.sqlite");
  const policy::RoutingTrace trace = policy::synthetic_trace(what.spec);
  double us = 0;
  for (auto _ : state) {
    fs::remove(p);
    TraceWriter writer(p);
    RunInfo info;
    info.model.shape = trace.shape;
    writer.begin_run(info);
    writer.flush();
    const int64_t cpu0 = writer.stats().cpu_ns;
    play_routing_trace(writer, trace, 0);
    writer.flush();
    us = double(writer.stats().cpu_ns - cpu0) / 1e3 / double(trace.n_tokens());
    writer.finish_run();
  }
  state.counters["writer_us_per_token"] = us;
  state.counters["rows_per_token"] = double(trace.n_layers() * 2 + trace.n_layers() + 1);
}

// ---- queries
// -------------------------------------------------------------------------------------

template <typename F>
void query(benchmark::State& state, F&& f) {
  const fs::path& p = big_trace();
  TraceReader reader(p);
  const int64_t run = reader.latest_run();
  for (auto _ : state) f(reader, run);
}

void register_all() {
  benchmark::RegisterBenchmark("Overhead/decode", overhead)
      ->Args({31, 200})
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("WriterCpu", writer_cpu)
      ->Args({6, 16})
      ->Args({32, 8})
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("Write100k", write_100k)
      ->Arg(0)
      ->Arg(1)
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);

  benchmark::RegisterBenchmark("Read/open+runs", [](benchmark::State& s) {
    const fs::path& p = big_trace();
    for (auto _ : s) benchmark::DoNotOptimize(TraceReader(p).runs());
  })->Unit(benchmark::kMillisecond);
  // What a viewer shows first: the run list, the layer x expert heatmap, the per-layer table,
  // the first screen of tokens and the primary policy's counters.
  benchmark::RegisterBenchmark("Read/first_view", [](benchmark::State& s) {
    const fs::path& p = big_trace();
    for (auto _ : s) {
      TraceReader r(p);
      const int64_t run = r.runs().back().id;
      benchmark::DoNotOptimize(r.expert_matrices(run));
      benchmark::DoNotOptimize(r.layer_aggregates(run));
      benchmark::DoNotOptimize(r.tokens(run, {0, 2000}));
      benchmark::DoNotOptimize(r.policy_tokens(run, 0));
    }
  })->Unit(benchmark::kMillisecond);

#define QUERY(name, body)                                              \
  benchmark::RegisterBenchmark("Read/" name, [](benchmark::State& s) { \
    query(s, [](TraceReader& r, int64_t run) { body; });               \
  })->Unit(benchmark::kMillisecond)
  QUERY("tokens_all", benchmark::DoNotOptimize(r.tokens(run)));
  QUERY("tokens_2k", benchmark::DoNotOptimize(r.tokens(run, {50'000, 52'000})));
  QUERY("routing_2k", benchmark::DoNotOptimize(r.routing(run, {50'000, 52'000})));
  QUERY("expert_matrices", benchmark::DoNotOptimize(r.expert_matrices(run)));
  QUERY("expert_matrices_decode",
        benchmark::DoNotOptimize(r.expert_matrices(run, policy::PhaseFilter::kDecode)));
  // An interrupted run has no aggregate tables: one pass over its rows (a fresh reader, so cold).
  benchmark::RegisterBenchmark("Read/aggregates_from_rows_cold", [](benchmark::State& st) {
    const fs::path& p = big_trace();
    for (auto _ : st) {
      TraceReader r(p);
      benchmark::DoNotOptimize(r.expert_matrices(r.latest_run(), policy::PhaseFilter::kAll, true));
    }
  })->Unit(benchmark::kMillisecond);
  QUERY("layer_aggregates", benchmark::DoNotOptimize(r.layer_aggregates(run)));
  QUERY("affinity", benchmark::DoNotOptimize(r.affinity(run, MoeLayerId(10))));
  QUERY("token_expert_2k",
        benchmark::DoNotOptimize(r.token_expert(run, MoeLayerId(10), {50'000, 52'000})));
  QUERY("token_expert_all", benchmark::DoNotOptimize(r.token_expert(run, MoeLayerId(10))));
  QUERY("policy_tokens", benchmark::DoNotOptimize(r.policy_tokens(run, 0)));
  QUERY("policy_report", benchmark::DoNotOptimize(r.policy_report(run, 0)));
  QUERY("cache_events_2k", benchmark::DoNotOptimize(r.cache_events(run, {50'000, 52'000})));
  QUERY("routing_trace", benchmark::DoNotOptimize(r.routing_trace(run)));
  QUERY("replay_lru", benchmark::DoNotOptimize(replay_recorded_policy(r, run, 0)));
#undef QUERY
}

const bool registered = (register_all(), true);

}  // namespace
}  // namespace moescope::storage

BENCHMARK_MAIN();
