#include "engine/batching/workload.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <thread>

#include "engine/common/error.h"

namespace moescope::batching {

Arrival parse_arrival(std::string_view text, uint64_t seed) {
  Arrival a;
  a.seed = seed;
  if (text == "all") return a;
  constexpr std::string_view prefix = "poisson:";
  if (text.substr(0, prefix.size()) == prefix) {
    const std::string rate(text.substr(prefix.size()));
    char* end = nullptr;
    const double r = std::strtod(rate.c_str(), &end);
    if (!rate.empty() && end == rate.c_str() + rate.size() && std::isfinite(r) && r > 0) {
      a.rate = r;
      return a;
    }
  }
  fail("--arrival expects 'all' or 'poisson:RATE' with RATE > 0 requests per second, got '{}'",
       text);
}

std::vector<double> arrival_times(const Arrival& arrival, size_t n) {
  std::vector<double> t(n, 0.0);
  if (arrival.rate <= 0) return t;
  std::mt19937_64 rng(arrival.seed);
  std::exponential_distribution<double> gap(arrival.rate);
  double now = 0;
  for (size_t i = 0; i < n; ++i) {
    now += gap(rng);
    t[i] = now;
  }
  return t;
}

double run_workload(BatchEngine& engine, std::span<const std::vector<int32_t>> prompts,
                    std::span<const double> arrival_s, const GenerationOptions& options,
                    const std::atomic<bool>* cancel) {
  const std::vector<GenerationOptions> each(prompts.size(), options);
  return run_workload(engine, prompts, arrival_s, each, cancel);
}

double run_workload(BatchEngine& engine, std::span<const std::vector<int32_t>> prompts,
                    std::span<const double> arrival_s, std::span<const GenerationOptions> options,
                    const std::atomic<bool>* cancel) {
  if (arrival_s.size() != prompts.size()) fail("one arrival time per prompt is needed");
  if (options.size() != prompts.size()) fail("one set of generation options per prompt is needed");
  const double start = engine.now_ms();
  size_t next = 0;
  while (!(cancel != nullptr && cancel->load(std::memory_order_relaxed))) {
    const double now_s = (engine.now_ms() - start) / 1000.0;
    while (next < prompts.size() && arrival_s[next] <= now_s) {
      engine.submit(prompts[next], options[next]);
      ++next;
    }
    if (engine.step()) continue;
    if (next == prompts.size()) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(arrival_s[next] - now_s));
  }
  return engine.now_ms() - start;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * double(values.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (rank - double(lo));
}

WorkloadSummary summarize(std::span<const RequestResult> requests, std::span<const StepStats> steps,
                          double total_ms, int64_t n_expert) {
  WorkloadSummary s;
  std::vector<double> ttft, tpot;
  for (const RequestResult& r : requests) {
    s.generated_tokens += static_cast<int64_t>(r.tokens.size());
    if (r.first_token_ms >= 0) ttft.push_back(r.ttft_ms());
    if (r.tokens.size() >= 2) tpot.push_back(r.tpot_ms());
  }
  s.ttft_p50 = percentile(ttft, 50);
  s.ttft_p95 = percentile(ttft, 95);
  s.tpot_p50 = percentile(tpot, 50);
  s.tpot_p95 = percentile(tpot, 95);
  s.tokens_per_s = total_ms > 0 ? double(s.generated_tokens) * 1000.0 / total_ms : 0.0;
  const size_t n_layer = steps.empty() ? 0 : steps.front().distinct_experts.size();
  s.mean_distinct_experts.assign(n_layer, 0.0);
  s.mean_straggler.assign(n_layer, 0.0);
  for (const StepStats& st : steps) {
    if (st.prefill_rows == 0) {
      s.decode_rows += st.rows;
      s.decode_ms += st.ms;
      ++s.decode_steps;
    }
    for (size_t l = 0; l < n_layer; ++l) {
      s.mean_distinct_experts[l] += st.distinct_experts[l];
      const double mean = double(st.routings[l]) / double(n_expert);
      s.mean_straggler[l] += mean > 0 ? st.max_tokens_per_expert[l] / mean : 0.0;
    }
  }
  for (size_t l = 0; l < n_layer; ++l) {
    s.mean_distinct_experts[l] /= double(steps.size());
    s.mean_straggler[l] /= double(steps.size());
  }
  s.decode_tokens_per_s = s.decode_ms > 0 ? double(s.decode_rows) * 1000.0 / s.decode_ms : 0.0;
  return s;
}

}  // namespace moescope::batching
