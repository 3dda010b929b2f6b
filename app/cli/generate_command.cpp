// moescope generate [--model M] --prompt TEXT [-n N] [sampling flags] [--chat [--system TEXT]]
//                   [--stop STR]... [--threads N] [--ctx N] [--exact] [--json]
//                   [--expert-budget B | --expert-slots N] [--policy P] [--prefetch P] [--link L]
//                   [--compare P,...] [--curves] [--adaptive-topk T] [--substitute EPS] ...
//                   [--trace FILE [--label TEXT] [--router-logits]] [--quiet] [--prompt-file F]
// Streams the generated text to stdout as tokens arrive; statistics (and with offloading the
// per-policy cache summary) go to stderr at the end. --json prints one JSON object on stdout
// instead, the text included.
//
// `moescope record` is this command with --trace required, and `generate --trace FILE` records
// too (one code path): a profiling run offloads with a default budget and compares a default set
// of shadow policies unless told otherwise (offload_options.h), and the run goes into the trace
// (recording.h).
#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <type_traits>

#include "app/cli/cli_input.h"
#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/default_model.h"
#include "app/cli/special_tokens_option.h"
#include "app/cli/offload_options.h"
#include "app/cli/progress.h"
#include "app/cli/recording.h"
#include "engine/common/error.h"
#include "engine/model/chat_template.h"
#include "engine/model/generator.h"
#include "engine/model/model.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/model/text_stream.h"
#include "engine/tokenizer/tokenizer.h"
#include "storage/run_info.h"

namespace moescope::cli {
namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
  // A second Ctrl-C (or SIGTERM) kills.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

// Ctrl-C stops generation after the current token, so the statistics still print and a recording
// finishes cleanly. SIGTERM (what `kill`, `timeout` and service managers send) means the same.
class InterruptGuard {
 public:
  InterruptGuard()
      : previous_int_(std::signal(SIGINT, on_interrupt)),
        previous_term_(std::signal(SIGTERM, on_interrupt)) {
    g_interrupted.store(false);
  }
  ~InterruptGuard() {
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }

 private:
  void (*previous_int_)(int);
  void (*previous_term_)(int);
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

// The prompt from --prompt or --prompt-file (exactly one). Throws moescope::Error; `usage` says
// whether the problem is the command line's (exit 2) or the file's (exit 1).
std::string read_prompt(const QCommandLineParser& parser, bool& usage) {
  usage = true;
  if (parser.isSet("prompt") == parser.isSet("prompt-file"))
    fail("give exactly one of --prompt TEXT and --prompt-file FILE");
  if (parser.isSet("prompt")) return parser.value("prompt").toStdString();
  usage = false;
  return read_text_file(parser.value("prompt-file"), "generate");
}

double per_second(int64_t n, double ms) {
  return ms > 0 ? 1000.0 * double(n) / ms : 0.0;
}

// The generation's statistics: the trace's run summary (the writer adds its own counts) and part
// of --json.
QJsonObject stats_json(const GenerationStats& st, bool stopped_by_user) {
  return QJsonObject{
      {"stop_reason", QString::fromStdString(std::string(stop_reason_name(st.stop_reason)))},
      {"stopped_by_user", stopped_by_user},
      {"prompt_tokens", st.n_prompt},
      {"generated_tokens", st.n_generated},
      {"decoded_tokens", st.n_decoded},
      {"prefill_ms", st.prefill_ms},
      {"decode_ms", st.decode_ms},
      {"prefill_tokens_per_s", st.prefill_tokens_per_second()},
      {"decode_tokens_per_s", st.decode_tokens_per_second()},
      {"first_token_ms", st.first_token_ms}};
}

std::string run_summary_json(const GenerationStats& st, bool stopped_by_user) {
  return QJsonDocument(stats_json(st, stopped_by_user))
      .toJson(QJsonDocument::Compact)
      .toStdString();
}

}  // namespace

int run_generation_command(const QStringList& args, bool record) {
  const char* name = record ? "record" : "generate";
  QCommandLineParser parser;
  parser.setApplicationDescription(
      record ? "Generate text from a prompt like `generate` and record the run into a trace: "
               "every token's routing, the expert cache's events and the counters of every "
               "policy. Offloads with 25 % of the experts (policy lru) unless --expert-budget or "
               "--expert-slots is given, and compares lru, lfu, fifo and belady-bypass unless "
               "--compare is given. Ctrl-C stops after the current token and still completes the "
               "run."
             : "Generate text from a prompt, streaming it to stdout. Sampling follows llama.cpp: "
               "repetition penalty, top-k, top-p, min-p, then temperature. With --trace the run "
               "is recorded as `moescope record` does.");
  parser.addHelpOption();
  parser.addOptions({
      {"model", "GGUF model file (default: the built-in model).", "M"},
      {"prompt", "Text to continue (the user message with --chat).", "TEXT"},
      {"prompt-file", "Read the prompt from FILE instead.", "FILE"},
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
      {"batch", "Prompt tokens per forward call (default 512).", "N"},
      {"exact", "Dequantize weights exactly and compute in float (slow reference path)."},
      {"json", "Print one JSON object (text, statistics, cache summary) instead of streaming."},
      {"trace",
       record ? "The trace file (SQLite) to record into: created, or a run appended."
              : "Record the run into this trace file, as `moescope record` does.",
       "FILE"},
      {"label", "A label for the recorded run.", "TEXT"},
      {"router-logits",
       "Also record every token's full router logits (always done when an mrs policy runs, as "
       "primary or shadow, so that replay feeds it the same router probabilities)."},
      {"quiet", "Do not stream the text, no progress bar."},
  });
  add_offload_options(parser);
  parser.addOptions(special_tokens_options(/*parse_by_default=*/true));  // as llama-cli
  if (const auto done = parse_command_line(parser, args)) return *done;
  auto usage = [&](const QString& message) {
    print_error(QString("%1: %2").arg(name, message));
    return kUsage;
  };
  if (!parser.positionalArguments().isEmpty())
    return usage("unexpected argument '" + parser.positionalArguments().first() + "'");
  const bool recording_on = parser.isSet("trace");
  if (record && (!recording_on || parser.value("trace").isEmpty()))
    return usage("--trace: a trace file to record into is required");
  if (recording_on && parser.value("trace").isEmpty()) return usage("--trace is empty");
  for (const char* flag : {"label", "router-logits"}) {
    if (parser.isSet(flag) && !recording_on) return usage(QString("--%1 needs --trace").arg(flag));
  }
  if (parser.isSet("system") && !parser.isSet("chat")) return usage("--system needs --chat");
  bool special_ok = true;
  const bool parse_special_tokens = parse_special(parser, true, special_ok);
  if (!special_ok) return usage("give at most one of --parse-special and --no-parse-special");

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
                          number(parser, "batch", 1, 1 << 20, options.n_batch, error) &&
                          parse_seed(parser, sp.seed, error);
  if (!numbers_ok) return usage(error);
  for (const QString& stop : parser.values("stop")) options.stop.push_back(stop.toStdString());
  OffloadRequest offload_request;
  try {
    offload_request = parse_offload_options(parser, recording_on);
  } catch (const Error& e) {
    return usage(e.what());
  }
  const bool json = parser.isSet("json");
  const bool quiet = parser.isSet("quiet");
  const bool stream = !json && !quiet;
  const std::filesystem::path trace_path =
      recording_on ? std::filesystem::path(parser.value("trace").toLocal8Bit().toStdString())
                   : std::filesystem::path();

  bool usage_problem = false;
  try {
    std::string prompt = read_prompt(parser, usage_problem);
    usage_problem = false;
    if (recording_on) check_trace_destination(trace_path);

    ModelOptions model_options;
    model_options.n_threads = threads;
    model_options.n_ctx = ctx;
    model_options.precision =
        parser.isSet("exact") ? MatmulPrecision::Exact : MatmulPrecision::Fast;
    const std::string model_path = model_path_or_default(parser).toStdString();
    auto model = Model::load(model_path, model_options);
    auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());

    if (parser.isSet("chat")) {
      prompt = format_chat_prompt(model->file(), prompt, parser.value("system").toStdString());
    }
    Generator generator(*model, *tokenizer);
    const std::vector<int32_t> tokens = generator.tokenize_prompt(prompt, parse_special_tokens);
    // The generator checks these too, but a recording must fail before it creates the trace.
    if (tokens.empty()) fail("the prompt is empty");
    if (int64_t(tokens.size()) > model->n_ctx()) {
      fail("prompt has {} tokens but the context holds {} (--ctx)", tokens.size(), model->n_ctx());
    }

    // From here on Ctrl-C stops the generation cleanly instead of killing a half-made trace
    // (during the model load it still kills at once: there is nothing to finish yet).
    InterruptGuard interrupt_guard;
    // Declared in this order so that the store detaches before the recording goes away.
    ObserverRelay relay;
    std::unique_ptr<CliRecording> recording;
    std::unique_ptr<OffloadRun> offload;
    offload_request.fit_budget(routed_expert_shape(*model));
    if (offload_request.active()) {
      offload =
          std::make_unique<OffloadRun>(*model, offload_request, recording_on ? &relay : nullptr);
    }
    if (recording_on) {
      // Prompt tokens as text: complete characters only, like the generated text.
      TextStream prompt_text;
      std::vector<std::string> pieces;
      for (int32_t id : tokens)
        pieces.push_back(prompt_text.push(tokenizer->token_piece(id, false)));
      if (!pieces.empty()) pieces.back() += prompt_text.finish();

      storage::RunInfo info;
      info.label = parser.value("label").toStdString();
      info.model = storage::describe_model(*model);
      info.model.path = std::filesystem::absolute(model_path).string();
      info.seed = sp.seed;
      // MRS (live or shadow) scores the router probabilities: record them so that replay can
      // feed it the same input.
      const bool router_logits =
          parser.isSet("router-logits") ||
          (offload && offload->store() != nullptr && offload_request.config->router_probs);
      const QJsonObject extra{{"command", name},
                              {"default_budget", offload_request.default_budget},
                              {"router_logits", router_logits},
                              {"chat", parser.isSet("chat")}};
      info.settings_json = storage::settings_json(
          model_options, options,
          offload && offload->store() != nullptr ? &*offload_request.config : nullptr,
          QJsonDocument(extra).toJson(QJsonDocument::Compact).toStdString());
      recording = std::make_unique<CliRecording>(trace_path, std::move(info), router_logits,
                                                 prompt, tokens, pieces, *model, *tokenizer);
      relay.set_target(recording->observer());
      if (offload && offload->store() != nullptr)
        recording->attach_store(*offload->store(), *offload_request.config);
      recording->start();
    }

    Progress progress(recording_on ? "recording" : "generating",
                      std::max(options.max_new_tokens, 0), quiet || stream);
    const GenerationResult result = generator.generate(
        tokens, options,
        [&](const TokenEvent& event) {
          if (recording) recording->token(event);
          if (event.id >= 0) progress.update(event.index + 1);
          if (!stream) return;
          std::fwrite(event.text.data(), 1, event.text.size(), stdout);
          std::fflush(stdout);
        },
        &g_interrupted);
    progress.finish();
    const GenerationStats& st = result.stats;
    const bool stopped_by_user = st.stop_reason == StopReason::kCancelled;
    std::optional<RecordedRun> recorded;
    if (recording) {
      if (st.stop_reason == StopReason::kEndOfGeneration && !result.tokens.empty()) {
        // The generator does not stream the end-of-generation token; the trace has its row.
        recording->token({result.tokens.back(), st.n_generated - 1, {}, st.total_ms});
      }
      recording->finish(run_summary_json(st, stopped_by_user));
      if (offload && offload->store() != nullptr)
        recorded = describe_recording(*recording, *offload->store());
    }

    if (json) {
      QJsonObject out = stats_json(st, stopped_by_user);
      out["text"] = QString::fromStdString(result.text);
      out["seed"] = QString::number(sp.seed);
      out["lossy"] = offload != nullptr && offload->lossy();
      if (offload) out["offload"] = offload->summary_json();
      if (recorded) {
        out["run_id"] = qint64(recorded->run);
        out["trace"] = QString::fromStdString(recorded->path);
        out["forwarded_tokens"] = recorded->forwarded;
        out["routing_entries"] = qint64(recorded->routing_entries);
        out["policies"] = recorded->policies;
      }
      std::printf("%s", QJsonDocument(out).toJson().constData());
      return kSuccess;
    }
    if (stream) {
      std::fputc('\n', stdout);
      std::fflush(stdout);
    }
    print_stats(st, sp.seed);
    if (recorded) {
      std::fprintf(stderr,
                   "recorded:  run %lld in %s (complete%s)\n"
                   "tokens:    %d prefill + %d decode forwarded, %.1f tokens/s prefill, %.1f "
                   "tokens/s decode\n"
                   "routing:   %lld entries\n",
                   static_cast<long long>(recorded->run), recorded->path.c_str(),
                   stopped_by_user ? ", stopped by user" : "", st.n_prompt, st.n_decoded,
                   per_second(st.n_prompt, st.prefill_ms), per_second(st.n_decoded, st.decode_ms),
                   static_cast<long long>(recorded->routing_entries));
    }
    if (offload) std::fputs(offload->summary_text().c_str(), stderr);
  } catch (const Error& e) {
    print_error(usage_problem ? QString("%1: %2").arg(name, e.what()) : QString(e.what()));
    return usage_problem ? kUsage : kFailure;
  }
  return kSuccess;
}

int run_generate(const QStringList& args) {
  return run_generation_command(args, false);
}

}  // namespace moescope::cli
