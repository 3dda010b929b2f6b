// moescope bench [--model M] [-p 512] [-n 128] [-t N] [-r 5] [--json] [--exact]
//                [--expert-budget B | --expert-slots N] [--policy P] [--prefetch P] [--link L]
//                [--compare P,...] [--curves] [--adaptive-topk T] [--substitute EPS] ...
// Prompt processing (ppN) and token generation (tgN) speed measured as llama-bench measures them:
// one warm-up run, then R repetitions from an empty KV cache; pp feeds N random tokens (BOS first
// when the vocabulary adds one) in one batch, tg decodes N random tokens one at a time. Reported:
// mean and sample standard deviation of the per-repetition tokens per second.
// With offloading each test gets a fresh expert cache, attached before its warm-up; its cache
// summary (warm-up and repetitions) follows the table, or is the "offload" field of the test's
// JSON entry.
#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "app/cli/cli_input.h"
#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/default_model.h"
#include "app/cli/offload_options.h"
#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/offload/offload_config.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope::cli {
namespace {

struct BenchResult {
  QString test;  // "pp512", "tg128"
  int n_prompt = 0;
  int n_gen = 0;
  std::vector<double> seconds;  // one per repetition

  int n_tokens() const { return n_prompt + n_gen; }
  std::vector<double> tokens_per_second() const {
    std::vector<double> ts;
    for (double s : seconds) ts.push_back(n_tokens() / s);
    return ts;
  }
};

double mean(const std::vector<double>& v) {
  double sum = 0.0;
  for (double x : v) sum += x;
  return v.empty() ? 0.0 : sum / v.size();
}

double stdev(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean(v);
  double sq = 0.0;
  for (double x : v) sq += (x - m) * (x - m);
  return std::sqrt(sq / (v.size() - 1));
}

class Bench {
 public:
  Bench(Model& model, const tokenizer::Tokenizer& tokenizer)
      : model_(model), tokenizer_(tokenizer), state_(model.new_state()), rng_(1234) {}

  // One batch of n tokens from an empty cache, as llama-bench's test_prompt.
  double prompt(int n) {
    std::vector<int32_t> tokens(n);
    for (int i = 0; i < n; ++i) tokens[i] = random_token();
    if (tokenizer_.vocab().add_bos) tokens[0] = tokenizer_.bos();
    std::vector<float> logits(model_.n_vocab());
    state_->clear();
    const auto start = Clock::now();
    model_.forward(tokens, *state_, logits, /*all_logits=*/false);
    return seconds_since(start);
  }

  // n single-token steps from an empty cache, as llama-bench's test_gen.
  double generate(int n) {
    std::vector<float> logits(model_.n_vocab());
    int32_t token = tokenizer_.vocab().add_bos ? tokenizer_.bos() : random_token();
    state_->clear();
    const auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
      model_.forward(std::span<const int32_t>(&token, 1), *state_, logits, /*all_logits=*/false);
      token = random_token();
    }
    return seconds_since(start);
  }

 private:
  using Clock = std::chrono::steady_clock;
  static double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
  }
  int32_t random_token() { return static_cast<int32_t>(rng_() % model_.n_vocab()); }

  Model& model_;
  const tokenizer::Tokenizer& tokenizer_;
  std::unique_ptr<InferenceState> state_;
  std::mt19937 rng_;
};

void add_bench_options(QCommandLineParser& parser) {
  parser.setApplicationDescription(
      "Prompt processing and generation speed, measured like llama-bench's pp and tg tests.");
  parser.addHelpOption();
  parser.addOptions({
      {"model", "GGUF model file (default: the built-in model).", "M"},
      {"p", "Prompt tokens for the pp test; 0 skips it (default 512).", "N"},
      {"n", "Generated tokens for the tg test; 0 skips it (default 128).", "N"},
      {"t", "Worker threads (default: physical cores).", "N"},
      {"r", "Repetitions of each test (default 5).", "N"},
      {"json", "Machine-readable output."},
      {"exact", "Dequantize weights exactly and compute in float (slow reference path)."},
  });
  add_offload_options(parser);
}

// The pp and tg tests' timings and, with offloading, each test's cache summary.
struct BenchRun {
  std::vector<BenchResult> results;
  std::vector<QJsonObject> summaries;  // [results] with offloading
  std::string summary_text;
};

BenchRun run_tests(Model& model, Bench& bench, const OffloadRequest& offload_request, int n_prompt,
                   int n_gen, int reps) {
  // Warm-up, as llama-bench: caches, pages and thread wake-ups are not part of the measurement.
  // With offloading each test warms its own cache.
  const bool offloading = offload_request.active();
  if (!offloading) {
    if (n_prompt > 0) bench.prompt(std::min(n_prompt, 512));
    if (n_gen > 0) bench.generate(1);
  }

  BenchRun run;
  auto run_test = [&](BenchResult r, const std::function<double()>& once,
                      const std::function<void()>& warm_up) {
    std::unique_ptr<OffloadRun> offload;
    if (offloading) {
      offload = std::make_unique<OffloadRun>(model, offload_request);
      warm_up();
    }
    for (int i = 0; i < reps; ++i) r.seconds.push_back(once());
    if (offload) {
      run.summaries.push_back(offload->summary_json());
      run.summary_text +=
          QString("\n%1 (warm-up and %2 repetitions):").arg(r.test).arg(reps).toStdString();
      run.summary_text += offload->summary_text();
    }
    run.results.push_back(r);
  };
  if (n_prompt > 0) {
    run_test(
        {QString("pp%1").arg(n_prompt), n_prompt, 0, {}}, [&] { return bench.prompt(n_prompt); },
        [&] { bench.prompt(std::min(n_prompt, 512)); });
  }
  if (n_gen > 0) {
    run_test(
        {QString("tg%1").arg(n_gen), 0, n_gen, {}}, [&] { return bench.generate(n_gen); },
        [&] { bench.generate(1); });
  }
  return run;
}

// What the report says about the model, as llama-bench reports it: tensor bytes and elements,
// metadata not counted.
struct BenchedModel {
  QString path;
  uint64_t n_params = 0;
  uint64_t bytes = 0;
  int n_threads = 0;
};

BenchedModel describe_model(const QString& path, Model& model) {
  BenchedModel m;
  m.path = path;
  for (const auto& t : model.file().tensors()) {
    m.n_params += t.n_elements;
    m.bytes += t.n_bytes;
  }
  m.n_threads = model.thread_pool().size();
  return m;
}

void print_json(const BenchRun& run, const BenchedModel& model) {
  QJsonArray out;
  for (size_t i = 0; i < run.results.size(); ++i) {
    const BenchResult& r = run.results[i];
    const auto ts = r.tokens_per_second();
    QJsonArray samples_ts, samples_ns;
    for (size_t i = 0; i < ts.size(); ++i) {
      samples_ts.append(ts[i]);
      samples_ns.append(static_cast<qint64>(std::llround(r.seconds[i] * 1e9)));
    }
    out.append(QJsonObject{{"model_filename", model.path},
                           {"model_size", static_cast<qint64>(model.bytes)},
                           {"model_n_params", static_cast<qint64>(model.n_params)},
                           {"n_threads", model.n_threads},
                           {"test", r.test},
                           {"n_prompt", r.n_prompt},
                           {"n_gen", r.n_gen},
                           {"avg_ns", mean(r.seconds) * 1e9},
                           {"stddev_ns", stdev(r.seconds) * 1e9},
                           {"avg_ts", mean(ts)},
                           {"stddev_ts", stdev(ts)},
                           {"samples_ns", samples_ns},
                           {"samples_ts", samples_ts}});
    if (i < run.summaries.size()) {
      QJsonObject entry = out.last().toObject();
      entry["offload"] = run.summaries[i];
      out.replace(out.size() - 1, entry);
    }
  }
  std::printf("%s", QJsonDocument(out).toJson().constData());
}

void print_table(const BenchRun& run, const BenchedModel& model) {
  const QString model_name = QFileInfo(model.path).completeBaseName();
  std::printf("| model | size | params | threads | test | t/s |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
  for (const auto& r : run.results) {
    const auto ts = r.tokens_per_second();
    std::printf("| %s | %s | %.2f M | %d | %s | %.2f ± %.2f |\n", model_name.toUtf8().constData(),
                offload::format_bytes(model.bytes).c_str(), model.n_params / 1e6, model.n_threads,
                r.test.toUtf8().constData(), mean(ts), stdev(ts));
  }
  std::fputs(run.summary_text.c_str(), stdout);
}

}  // namespace

int run_bench(const QStringList& args) {
  QCommandLineParser parser;
  add_bench_options(parser);
  if (auto done = parse_command_line(parser, args)) return *done;
  if (!parser.positionalArguments().isEmpty()) {
    print_error("bench: unexpected argument '" + parser.positionalArguments().first() + "'");
    return kUsage;
  }
  int n_prompt = 512, n_gen = 128, threads = 0, reps = 5;
  QString error;
  if (!parse_int(parser, "p", 0, 1 << 20, n_prompt, error) ||
      !parse_int(parser, "n", 0, 1 << 20, n_gen, error) ||
      !parse_int(parser, "t", 1, 1024, threads, error) ||
      !parse_int(parser, "r", 1, 10000, reps, error)) {
    print_error("bench: " + error);
    return kUsage;
  }
  if (n_prompt == 0 && n_gen == 0) {
    print_error("bench: -p 0 and -n 0 leave nothing to measure");
    return kUsage;
  }
  OffloadRequest offload_request;
  try {
    offload_request = parse_offload_options(parser);
  } catch (const Error& e) {
    print_error(QString("bench: ") + e.what());
    return kUsage;
  }

  try {
    ModelOptions model_options;
    model_options.n_threads = threads;
    model_options.n_ctx = std::max(n_prompt, n_gen);
    model_options.precision =
        parser.isSet("exact") ? MatmulPrecision::Exact : MatmulPrecision::Fast;
    const QString path = model_path_or_default(parser);
    auto model = Model::load(path.toStdString(), model_options);
    auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());
    Bench bench(*model, *tokenizer);
    const BenchRun run = run_tests(*model, bench, offload_request, n_prompt, n_gen, reps);
    const BenchedModel benched = describe_model(path, *model);
    if (parser.isSet("json")) {
      print_json(run, benched);
    } else {
      print_table(run, benched);
    }
  } catch (const Error& e) {
    print_error(e.what());
    return kFailure;
  }
  return kSuccess;
}

}  // namespace moescope::cli
