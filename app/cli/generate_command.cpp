// moescope generate [--model M] --prompt TEXT [-n N] [sampling flags] [--chat [--system TEXT]]
//                   [--stop STR]... [--threads N] [--ctx N] [--exact] [--json]
//                   [--expert-budget B | --expert-slots N] [--policy P] [--prefetch P] [--link L]
//                   [--compare P,...] [--curves] [--adaptive-topk T] [--substitute EPS] ...
// Streams the generated text to stdout as tokens arrive; statistics (and with offloading the
// per-policy cache summary) go to stderr at the end. --json prints one JSON object on stdout
// instead, the text included.
#include <QCommandLineParser>
#include <QJsonDocument>
#include <QJsonObject>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>
#include <random>
#include <type_traits>

#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/default_model.h"
#include "app/cli/offload_options.h"
#include "engine/common/error.h"
#include "engine/model/chat_template.h"
#include "engine/model/generator.h"
#include "engine/model/model.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope::cli {
namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
}

// Ctrl-C stops generation after the current token, so the statistics still print.
class InterruptGuard {
 public:
  InterruptGuard() : previous_(std::signal(SIGINT, on_interrupt)) { g_interrupted.store(false); }
  ~InterruptGuard() { std::signal(SIGINT, previous_); }

 private:
  void (*previous_)(int);
};

// Reads a numeric option into `value` (left alone when the option is absent). Returns false with
// `error` set when it is not a number within [min, max].
template <typename T>
bool number(const QCommandLineParser& parser, const QString& name, T min, T max, T& value,
            QString& error) {
  if (!parser.isSet(name)) return true;
  const QString text = parser.value(name);
  bool ok = false;
  const double v = text.toDouble(&ok);
  if (!ok || !std::isfinite(v) || v < min || v > max ||
      (std::is_integral_v<T> && v != std::floor(v))) {
    error = QString("%1%2 expects a number from %3 to %4, got '%5'")
                .arg(name.size() == 1 ? "-" : "--", name)
                .arg(min)
                .arg(max)
                .arg(text);
    return false;
  }
  value = static_cast<T>(v);
  return true;
}

bool parse_seed(const QCommandLineParser& parser, uint64_t& seed, QString& error) {
  if (!parser.isSet("seed")) return true;
  const QString text = parser.value("seed");
  if (text == "-1") {
    seed = std::random_device{}();
    return true;
  }
  bool ok = false;
  seed = text.toULongLong(&ok);
  if (!ok) error = QString("--seed expects a number from 0 to 2^64-1, or -1, got '%1'").arg(text);
  return ok;
}

void print_stats(const GenerationStats& s, uint64_t seed) {
  std::fprintf(stderr,
               "\nprompt:    %d tokens in %.1f ms (%.1f tokens/s)\n"
               "generated: %d tokens in %.1f ms (%.1f tokens/s over %d decode steps), "
               "first token after %.1f ms\n"
               "stopped:   %s (seed %llu)\n",
               s.n_prompt, s.prefill_ms, s.prefill_tokens_per_second(), s.n_generated, s.decode_ms,
               s.decode_tokens_per_second(), s.n_decoded, s.first_token_ms,
               std::string(stop_reason_name(s.stop_reason)).c_str(),
               static_cast<unsigned long long>(seed));
}

}  // namespace

int run_generate(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Generate text from a prompt, streaming it to stdout. Sampling follows llama.cpp: "
      "repetition penalty, top-k, top-p, min-p, then temperature.");
  parser.addHelpOption();
  parser.addOptions({
      {"model", "GGUF model file (default: the built-in model).", "M"},
      {"prompt", "Text to continue (the user message with --chat).", "TEXT"},
      {"n", "Tokens to generate; -1 runs to end of generation or a full context (default 128).",
       "N"},
      {"temp", "Temperature; 0 is greedy (default 0.8).", "T"},
      {"top-k", "Keep the K most likely tokens; 0 keeps all (default 40).", "K"},
      {"top-p", "Keep the most likely tokens up to probability P; 1 keeps all (default 0.95).",
       "P"},
      {"min-p", "Drop tokens below P times the best one's probability; 0 keeps all (default 0.05).",
       "P"},
      {"repeat-penalty", "Penalty for recently seen tokens; 1 is off (default 1).", "R"},
      {"repeat-last-n", "How many recent tokens are penalised; -1 is all (default 64).", "N"},
      {"seed", "Random seed; -1 picks one (default 42).", "S"},
      {"chat", "Wrap the prompt in the model's chat template."},
      {"system", "System message for --chat.", "TEXT"},
      {"stop", "Stop when the generated text contains STR (repeatable).", "STR"},
      {"threads", "Worker threads (default: physical cores).", "N"},
      {"ctx", "Context length in tokens (default: min(training context, 4096)).", "N"},
      {"exact", "Dequantize weights exactly and compute in float (slow reference path)."},
      {"json", "Print one JSON object (text, statistics, cache summary) instead of streaming."},
  });
  add_offload_options(parser);
  if (!parser.parse(args)) {
    print_error("generate: " + parser.errorText());
    return kUsage;
  }
  if (parser.isSet("help")) {
    std::printf("%s", parser.helpText().toUtf8().constData());
    return kSuccess;
  }
  if (!parser.positionalArguments().isEmpty()) {
    print_error("generate: unexpected argument '" + parser.positionalArguments().first() + "'");
    return kUsage;
  }
  if (!parser.isSet("prompt")) {
    print_error("generate: --prompt is required");
    return kUsage;
  }
  if (parser.isSet("system") && !parser.isSet("chat")) {
    print_error("generate: --system needs --chat");
    return kUsage;
  }

  QString error;
  GenerationOptions options;
  SamplingParams& sp = options.sampling;
  int threads = 0;
  int ctx = 0;
  const bool numbers_ok = number(parser, "n", -1, 1 << 30, options.max_new_tokens, error) &&
                          number(parser, "temp", 0.0f, 100.0f, sp.temperature, error) &&
                          number(parser, "top-k", 0, 1 << 30, sp.top_k, error) &&
                          number(parser, "top-p", 0.0f, 1.0f, sp.top_p, error) &&
                          number(parser, "min-p", 0.0f, 1.0f, sp.min_p, error) &&
                          number(parser, "repeat-penalty", 1e-3f, 1e3f, sp.repeat_penalty, error) &&
                          number(parser, "repeat-last-n", -1, 1 << 30, sp.repeat_last_n, error) &&
                          number(parser, "threads", 1, 1024, threads, error) &&
                          number(parser, "ctx", 1, 1 << 24, ctx, error) &&
                          parse_seed(parser, sp.seed, error);
  if (!numbers_ok) {
    print_error("generate: " + error);
    return kUsage;
  }
  for (const QString& stop : parser.values("stop")) options.stop.push_back(stop.toStdString());
  OffloadRequest offload_request;
  try {
    offload_request = parse_offload_options(parser);
  } catch (const Error& e) {
    print_error(QString("generate: ") + e.what());
    return kUsage;
  }
  const bool json = parser.isSet("json");

  try {
    ModelOptions model_options;
    model_options.n_threads = threads;
    model_options.n_ctx = ctx;
    model_options.precision =
        parser.isSet("exact") ? MatmulPrecision::Exact : MatmulPrecision::Fast;
    auto model = Model::load(model_path_or_default(parser).toStdString(), model_options);
    auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());

    std::string prompt = parser.value("prompt").toStdString();
    if (parser.isSet("chat")) {
      prompt = format_chat_prompt(model->file(), prompt, parser.value("system").toStdString());
    }
    Generator generator(*model, *tokenizer);
    const std::vector<int32_t> tokens = generator.tokenize_prompt(prompt);
    std::unique_ptr<OffloadRun> offload;
    if (offload_request.active()) offload = std::make_unique<OffloadRun>(*model, offload_request);

    InterruptGuard interrupt_guard;
    const GenerationResult result = generator.generate(
        tokens, options,
        [json](const TokenEvent& event) {
          if (json) return;
          std::fwrite(event.text.data(), 1, event.text.size(), stdout);
          std::fflush(stdout);
        },
        &g_interrupted);
    if (json) {
      const GenerationStats& st = result.stats;
      QJsonObject out{
          {"text", QString::fromStdString(result.text)},
          {"prompt_tokens", st.n_prompt},
          {"generated_tokens", st.n_generated},
          {"prefill_ms", st.prefill_ms},
          {"decode_ms", st.decode_ms},
          {"prefill_tokens_per_s", st.prefill_tokens_per_second()},
          {"decode_tokens_per_s", st.decode_tokens_per_second()},
          {"first_token_ms", st.first_token_ms},
          {"stop_reason", QString::fromStdString(std::string(stop_reason_name(st.stop_reason)))},
          {"seed", QString::number(sp.seed)},
          {"lossy", offload != nullptr && offload->lossy()}};
      if (offload) out["offload"] = offload->summary_json();
      std::printf("%s", QJsonDocument(out).toJson().constData());
      return kSuccess;
    }
    std::fputc('\n', stdout);
    std::fflush(stdout);
    print_stats(result.stats, sp.seed);
    if (offload) std::fputs(offload->summary_text().c_str(), stderr);
  } catch (const Error& e) {
    print_error(e.what());
    return kFailure;
  }
  return kSuccess;
}

}  // namespace moescope::cli
