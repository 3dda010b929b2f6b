// moescope batch --prompts FILE [--model M] [--max-batch N] [--max-tokens N] [--batch N]
//                [--scheduler fifo|expert-aware] [--arrival all|poisson:RATE] [-n N]
//                [sampling flags] [--capacity G [--expand M] [--capacity-devices D]]
//                [offloading flags]
//                [--trace T [--label L] [--router-logits]] [--json]
// Runs a workload of many requests through the session pipeline's batched run
// (storage/session/generation_session.h: GenerationSession::run_batch, the continuous-batching
// engine of engine/batching) and prints throughput, per-request TTFT/TPOT percentiles, distinct
// experts per step and layer, the straggler factor and, when offloading, bytes moved and hit
// rate. Every request decodes exactly what `moescope generate` gives it alone with the same flags
// (unless a LOSSY variant runs). --trace records the run like `generate --trace`: every request's
// routing under its request id, one cache step per (step, MoE layer), the batch settings.
#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "app/cli/capacity_options.h"
#include "app/cli/cli_input.h"
#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/default_model.h"
#include "app/cli/offload_options.h"
#include "app/cli/recording.h"
#include "engine/batching/batch_engine.h"
#include "engine/batching/capacity_gating.h"
#include "engine/batching/workload.h"
#include "engine/common/error.h"
#include "engine/model/generator.h"
#include "engine/model/model.h"
#include "engine/model/routing.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/tokenizer/tokenizer.h"
#include "storage/run_info.h"
#include "storage/session/generation_session.h"
#include "storage/session/trace_recording.h"
#include "storage/session/workload_file.h"

namespace moescope::cli {
namespace {

using batching::RequestResult;
using batching::StepStats;
using batching::WorkloadSummary;
using storage::WorkloadPrompt;

struct BatchSettings {
  QString prompts_file;
  batching::BatchOptions batch;
  GenerationOptions generation;
  std::string arrival = "all";
  int threads = 0;
  int ctx = 0;
  std::optional<batching::CapacityOptions> capacity;
  OffloadRequest offload;
  bool json = false;
  std::string trace;  // empty: not recorded
  std::string label;
  bool router_logits = false;
};

void add_batch_options(QCommandLineParser& parser) {
  parser.addOptions({
      {"model", "GGUF model file (default: the built-in model).", "M"},
      {"prompts", "Workload: a text file (one prompt per line) or JSONL ({\"prompt\": ...}).",
       "FILE"},
      {"max-batch", "Requests per step (default 16).", "N"},
      {"max-tokens", "Tokens per step, prompt chunks and decode tokens (default 512).", "N"},
      {"batch", "Prompt tokens per chunk, as generate's --batch (default 512).", "N"},
      {"scheduler", "fifo or expert-aware (default fifo).", "S"},
      {"arrival", "all (default), or poisson:RATE requests per second (seeded by --seed).", "A"},
      {"n", "Tokens to generate per request; -1 until end of generation (default 128).", "N"},
      {"temp", "Temperature; 0 is greedy (default 0.8).", "T"},
      {"top-k", "Keep the K most likely tokens; 0 keeps all (default 40).", "K"},
      {"top-p", "Keep tokens up to probability P (default 0.95).", "P"},
      {"min-p", "Drop tokens below P times the best one's probability (default 0.05).", "P"},
      {"seed", "Random seed of every request's sampler (default 42).", "S"},
      {"threads", "Worker threads (default: physical cores).", "N"},
      {"ctx", "Context length of every request (default: min(training context, 4096)).", "N"},
      {"json", "Print one JSON object: the requests (prompt, text, token ids) and statistics."},
      {"trace",
       "Record the run into trace T (created, or a run appended): every request's routing and "
       "tokens, the cache, the batch settings. Offloads by default as `record` does.",
       "T"},
      {"label", "With --trace: the run's label.", "L"},
      {"router-logits", "With --trace: record every token's full router logits."},
  });
  parser.addOptions(capacity_options("step"));
  add_offload_options(parser);
}

// Reads the flags; throws moescope::Error (a usage problem) naming the flag.
BatchSettings read_settings(const QCommandLineParser& parser) {
  BatchSettings s;
  if (!parser.isSet("prompts") || parser.value("prompts").isEmpty()) {
    fail("--prompts FILE is required");
  }
  s.prompts_file = parser.value("prompts");
  SamplingParams& sp = s.generation.sampling;
  QString error;
  double temp = sp.temperature, top_p = sp.top_p, min_p = sp.min_p;
  int seed = int(sp.seed);
  const bool ok = parse_int(parser, "max-batch", 1, 4096, s.batch.limits.max_batch, error) &&
                  parse_int(parser, "n", -1, 1 << 30, s.generation.max_new_tokens, error) &&
                  parse_int(parser, "batch", 1, 1 << 20, s.generation.n_batch, error) &&
                  parse_int(parser, "top-k", 0, 1 << 30, sp.top_k, error) &&
                  parse_int(parser, "seed", 0, 1 << 30, seed, error) &&
                  parse_int(parser, "threads", 1, 1024, s.threads, error) &&
                  parse_int(parser, "ctx", 1, 1 << 24, s.ctx, error) &&
                  parse_number(parser, "temp", 0.0, 100.0, temp, error) &&
                  parse_number(parser, "top-p", 0.0, 1.0, top_p, error) &&
                  parse_number(parser, "min-p", 0.0, 1.0, min_p, error) &&
                  read_capacity_options(parser, s.capacity, error);
  int max_tokens = 512;
  if (!ok || !parse_int(parser, "max-tokens", 1, 1 << 20, max_tokens, error)) {
    fail("{}", error.toStdString());
  }
  s.batch.limits.max_tokens = max_tokens;
  sp.temperature = float(temp);
  sp.top_p = float(top_p);
  sp.min_p = float(min_p);
  sp.seed = uint64_t(seed);
  if (parser.isSet("scheduler")) s.batch.scheduler = parser.value("scheduler").toStdString();
  batching::make_scheduler(s.batch.scheduler);  // refuses unknown names now
  if (parser.isSet("arrival")) s.arrival = parser.value("arrival").toStdString();
  batching::parse_arrival(s.arrival, sp.seed);
  if (parser.isSet("trace")) s.trace = parser.value("trace").toLocal8Bit().toStdString();
  for (const char* flag : {"label", "router-logits"}) {
    if (parser.isSet(flag) && s.trace.empty()) fail("--{} needs --trace", flag);
  }
  s.label = parser.value("label").toStdString();
  s.router_logits = parser.isSet("router-logits");
  s.offload = parse_offload_options(parser, /*profiling=*/!s.trace.empty());
  if (s.capacity && s.offload.lossy.any()) {
    fail("--capacity does not combine with --adaptive-topk or --substitute");
  }
  s.json = parser.isSet("json");
  return s;
}

// A prompt the context cannot hold names its line (the session would only name its request).
void check_workload(const std::vector<WorkloadPrompt>& prompts, const Generator& generator,
                    const Model& model, const std::string& file) {
  for (const WorkloadPrompt& p : prompts) {
    const size_t n = generator.tokenize_prompt(p.text).size();
    if (n == 0) fail("{}:{}: the prompt has no tokens", file, p.line);
    if (int64_t(n) > model.n_ctx()) {
      fail("{}:{}: prompt has {} tokens but the context holds {} (--ctx)", file, p.line, n,
           model.n_ctx());
    }
  }
}

QJsonArray int_array(const std::vector<int32_t>& v) {
  QJsonArray a;
  for (int32_t x : v) a.append(x);
  return a;
}

QJsonObject capacity_json(const batching::CapacityOptions& options,
                          std::span<const batching::CapacityRecord> records) {
  const batching::CapacityTotals t = batching::capacity_totals(records);
  return QJsonObject{{"variant", QString::fromStdString(options.describe())},
                     {"lossy", true},
                     {"dropped_fraction", t.dropped_fraction()},
                     {"rerouted_fraction", t.rerouted_fraction()},
                     {"mean_straggler_before", t.mean_straggler_before},
                     {"mean_straggler_after", t.mean_straggler_after}};
}

QJsonArray requests_json(const std::vector<RequestResult>& results,
                         const std::vector<WorkloadPrompt>& prompts) {
  QJsonArray out;
  for (size_t i = 0; i < results.size(); ++i) {
    const RequestResult& r = results[i];
    out.append(QJsonObject{
        {"id", r.id.value},
        {"line", prompts[i].line},
        {"prompt", QString::fromStdString(prompts[i].text)},
        {"text", QString::fromStdString(r.text)},
        {"tokens", int_array(r.tokens)},
        {"prompt_tokens", qint64(r.prompt.size())},
        {"stop_reason", QString::fromStdString(std::string(stop_reason_name(r.stop_reason)))},
        {"ttft_ms", r.ttft_ms()},
        {"tpot_ms", r.tpot_ms()},
        {"steps", qint64(r.steps)}});
  }
  return out;
}

std::string per_layer(const std::vector<double>& v) {
  std::string s;
  for (size_t l = 0; l < v.size(); ++l) {
    if (l > 0) s += ' ';
    s += fmt::format("{:.2f}", v[l]);
  }
  return s;
}

void print_text(const BatchSettings& s, const std::vector<RequestResult>& results,
                const WorkloadSummary& w, double total_ms, size_t n_steps) {
  for (const RequestResult& r : results) {
    std::printf("--- request %d (%zu prompt tokens, %zu generated, %s)\n%s\n", r.id.value,
                r.prompt.size(), r.tokens.size(),
                std::string(stop_reason_name(r.stop_reason)).c_str(), r.text.c_str());
  }
  std::fflush(stdout);
  std::fprintf(stderr,
               "\nrequests:  %zu (scheduler %s, max batch %d, max tokens %lld, arrival %s)\n"
               "generated: %lld tokens in %.1f ms over %zu steps: %.1f tokens/s; decode-only "
               "steps %.1f tokens/s\n"
               "TTFT:      p50 %.1f ms, p95 %.1f ms\n"
               "TPOT:      p50 %.1f ms, p95 %.1f ms\n"
               "experts:   distinct per step, by layer: %s\n"
               "straggler: max/mean tokens per expert, by layer: %s\n",
               results.size(), s.batch.scheduler.c_str(), s.batch.limits.max_batch,
               static_cast<long long>(s.batch.limits.max_tokens), s.arrival.c_str(),
               static_cast<long long>(w.generated_tokens), total_ms, n_steps, w.tokens_per_s,
               w.decode_tokens_per_s, w.ttft_p50, w.ttft_p95, w.tpot_p50, w.tpot_p95,
               per_layer(w.mean_distinct_experts).c_str(), per_layer(w.mean_straggler).c_str());
}

// The run's description in the trace: the model, seed and every setting, the batch ones under
// "batch" (scheduler, step limits, arrival, capacity variant, workload file).
storage::RecordingConfig recording_config(const BatchSettings& s, const Model& model,
                                          const std::string& model_path,
                                          const ModelOptions& model_options, size_t n_requests) {
  storage::RecordingConfig rc = base_recording_config(
      s.trace, s.label, s.router_logits, s.offload, model, model_path, s.generation.sampling.seed);
  storage::RunInfo& info = rc.info;
  const QJsonObject batch{
      {"scheduler", QString::fromStdString(s.batch.scheduler)},
      {"max_batch", s.batch.limits.max_batch},
      {"max_tokens", qint64(s.batch.limits.max_tokens)},
      {"arrival", QString::fromStdString(s.arrival)},
      {"capacity",
       s.capacity ? QJsonValue(QString::fromStdString(s.capacity->describe())) : QJsonValue()},
      {"lossy", bool(s.capacity)},
      {"requests", qint64(n_requests)},
      {"workload", s.prompts_file}};
  const QJsonObject extra{{"command", "batch"},
                          {"default_budget", s.offload.default_budget},
                          {"router_logits", rc.router_logits},
                          {"batch", batch}};
  info.settings_json = storage::settings_json(
      model_options, s.generation, s.offload.config ? &*s.offload.config : nullptr,
      QJsonDocument(extra).toJson(QJsonDocument::Compact).toStdString());
  return rc;
}

int run(BatchSettings& s, const QString& model_path) {
  ModelOptions model_options;
  model_options.n_threads = s.threads;
  model_options.n_ctx = s.ctx;
  const std::string file = s.prompts_file.toLocal8Bit().toStdString();
  // Everything that can be wrong with the workload or the trace's place is found before the
  // trace exists: a bad file leaves nothing behind.
  const std::vector<WorkloadPrompt> prompts =
      storage::parse_workload(read_text_file(s.prompts_file, "batch"), file);
  if (!s.trace.empty()) storage::check_trace_destination(s.trace);
  const std::string path = model_path.toLocal8Bit().toStdString();
  auto model = Model::load(path, model_options);
  auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());
  check_workload(prompts, Generator(*model, *tokenizer), *model, file);

  std::vector<storage::GenerationRequest> requests;
  for (const WorkloadPrompt& p : prompts) {
    storage::GenerationRequest r;
    r.id = int64_t(requests.size());
    r.prompt = p.text;
    r.parse_special = true;  // as Generator::tokenize_prompt
    r.options = s.generation;
    r.source_json = QJsonDocument(QJsonObject{{"workload", s.prompts_file}, {"line", p.line}})
                        .toJson(QJsonDocument::Compact)
                        .toStdString();
    requests.push_back(std::move(r));
  }
  s.offload.fit_budget(routed_expert_shape(*model));
  storage::SessionConfig config;
  config.offload = s.offload.config;
  config.lossy = s.offload.lossy;
  if (!s.trace.empty())
    config.recording = recording_config(s, *model, path, model_options, requests.size());
  storage::BatchConfig batch;
  batch.engine = s.batch;
  batch.arrival_s = batching::arrival_times(
      batching::parse_arrival(s.arrival, s.generation.sampling.seed), requests.size());
  batch.capacity = s.capacity;

  storage::GenerationSession session(*model, *tokenizer, std::move(config));
  storage::SessionListener quiet;
  const storage::BatchSessionResult r = session.run_batch(requests, batch, quiet);
  std::optional<OffloadRun> offload;
  if (s.offload.active()) offload.emplace(s.offload, *session.attachment());

  const WorkloadSummary w = batching::summarize(r.requests, r.steps, r.total_ms,
                                                std::max<int64_t>(model->hparams().n_expert, 1));
  if (s.json) {
    // The statistics are the trace summary's (one source for both), without its per-request part.
    QJsonObject stats =
        QJsonDocument::fromJson(QByteArray::fromStdString(storage::batch_summary_json(
                                    r, std::max<int64_t>(model->hparams().n_expert, 1))))
            .object();
    for (const char* key : {"requests", "batched", "capacity"}) stats.remove(key);
    QJsonObject out{{"requests", requests_json(r.requests, prompts)},
                    {"stats", stats},
                    {"scheduler", QString::fromStdString(s.batch.scheduler)},
                    {"max_batch", s.batch.limits.max_batch},
                    {"arrival", QString::fromStdString(s.arrival)},
                    {"lossy", bool(s.capacity) || (offload && offload->lossy())}};
    if (s.capacity) out["capacity"] = capacity_json(*s.capacity, r.capacity);
    if (offload) out["offload"] = offload->summary_json();
    if (r.recording) {
      out["run_id"] = qint64(r.recording->run);
      out["trace"] = QString::fromStdString(r.recording->trace.string());
    }
    std::printf("%s", QJsonDocument(out).toJson().constData());
    return kSuccess;
  }
  print_text(s, r.requests, w, r.total_ms, r.steps.size());
  if (s.capacity) {
    const QJsonObject c = capacity_json(*s.capacity, r.capacity);
    std::fprintf(stderr,
                 "capacity:  LOSSY %s: %.2f %% of routings dropped, %.2f %% rerouted; straggler "
                 "%.2f before, %.2f after (mean over steps and layers)\n",
                 s.capacity->describe().c_str(), 100 * c["dropped_fraction"].toDouble(),
                 100 * c["rerouted_fraction"].toDouble(), c["mean_straggler_before"].toDouble(),
                 c["mean_straggler_after"].toDouble());
  }
  if (r.recording) {
    std::fprintf(stderr, "recorded:  run %lld in %s (%zu requests, %zu steps)\n",
                 static_cast<long long>(r.recording->run), r.recording->trace.c_str(),
                 r.requests.size(), r.steps.size());
  }
  if (offload) std::fputs(offload->summary_text().c_str(), stderr);
  return kSuccess;
}

}  // namespace

int run_batch(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Run many requests at once through the continuous-batching engine: each step forwards the "
      "prompt chunks and decode tokens of up to --max-batch requests together, and every MoE "
      "layer runs each expert once over all the step's tokens that chose it. Prints throughput, "
      "TTFT/TPOT percentiles, distinct experts per step and layer, the straggler factor and, "
      "with offloading, bytes moved and hit rate. Each request's output equals `generate` alone "
      "with the same flags, unless --capacity (LOSSY) runs. --trace records the run (every "
      "request's routing under its request id) for replay, report and export.");
  parser.addHelpOption();
  add_batch_options(parser);
  if (const auto done = parse_command_line(parser, args)) return *done;
  if (!parser.positionalArguments().isEmpty()) {
    print_error("batch: unexpected argument '" + parser.positionalArguments().first() + "'");
    return kUsage;
  }
  BatchSettings settings;
  try {
    settings = read_settings(parser);
  } catch (const Error& e) {
    print_error(QString("batch: %1").arg(e.what()));
    return kUsage;
  }
  try {
    return run(settings, model_path_or_default(parser));
  } catch (const Error& e) {
    print_error(e.what());
    return kFailure;
  }
}

}  // namespace moescope::cli
