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
// of shadow policies unless told otherwise (offload_options.h). The generation and its recording
// are the session pipeline's (storage/session/generation_session.h), which the GUI drives too:
// this file turns flags into a SessionConfig and a request, and prints what comes back.
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
#include "app/cli/offload_options.h"
#include "app/cli/progress.h"
#include "app/cli/recording.h"
#include "app/cli/special_tokens_option.h"
#include "engine/common/error.h"
#include "engine/model/chat_template.h"
#include "engine/model/generator.h"
#include "engine/model/model.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/tokenizer/tokenizer.h"
#include "storage/run_info.h"
#include "storage/session/generation_session.h"
#include "storage/session/trace_recording.h"

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

// The generation's statistics, part of --json: the keys of the trace's run summary.
QJsonObject stats_json(const GenerationStats& st) {
  return QJsonDocument::fromJson(QByteArray::fromStdString(storage::generation_summary_json(st)))
      .object();
}

// What the command line asks for, checked (apart from the prompt and the model, which are read
// later: their errors are not usage errors).
struct GenerateArgs {
  const char* name = "generate";
  bool record = false;        // `moescope record`
  bool recording_on = false;  // --trace given
  bool json = false, quiet = false, stream = false;
  bool chat = false, router_logits = false, parse_special = true;
  std::filesystem::path trace;
  std::string label, system;
  ModelOptions model;
  GenerationOptions options;
  OffloadRequest offload;
};

void add_generation_options(QCommandLineParser& parser, bool record) {
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
}

// The flags that combine (--trace, --label, --chat, ...). Returns the usage error, if any.
QString check_flag_combinations(const QCommandLineParser& parser, GenerateArgs& a) {
  if (!parser.positionalArguments().isEmpty())
    return "unexpected argument '" + parser.positionalArguments().first() + "'";
  a.recording_on = parser.isSet("trace");
  if (a.record && (!a.recording_on || parser.value("trace").isEmpty()))
    return "--trace: a trace file to record into is required";
  if (a.recording_on && parser.value("trace").isEmpty()) return "--trace is empty";
  for (const char* flag : {"label", "router-logits"}) {
    if (parser.isSet(flag) && !a.recording_on) return QString("--%1 needs --trace").arg(flag);
  }
  if (parser.isSet("system") && !parser.isSet("chat")) return "--system needs --chat";
  bool special_ok = true;
  a.parse_special = parse_special(parser, true, special_ok);
  if (!special_ok) return "give at most one of --parse-special and --no-parse-special";
  return {};
}

// The numbers (sampling, length, threads, context, batch, seed). Returns the usage error, if any.
QString parse_numbers(const QCommandLineParser& parser, GenerateArgs& a) {
  QString error;
  SamplingParams& sp = a.options.sampling;
  const bool ok = parse_number(parser, "n", -1, 1 << 30, a.options.max_new_tokens, error) &&
                  parse_number(parser, "temp", 0.0f, 100.0f, sp.temperature, error) &&
                  parse_number(parser, "top-k", 0, 1 << 30, sp.top_k, error) &&
                  parse_number(parser, "top-p", 0.0f, 1.0f, sp.top_p, error) &&
                  parse_number(parser, "min-p", 0.0f, 1.0f, sp.min_p, error) &&
                  parse_number(parser, "repeat-penalty", 1e-3f, 1e3f, sp.repeat_penalty, error) &&
                  parse_number(parser, "repeat-last-n", -1, 1 << 30, sp.repeat_last_n, error) &&
                  parse_number(parser, "threads", 1, 1024, a.model.n_threads, error) &&
                  parse_number(parser, "ctx", 1, 1 << 24, a.model.n_ctx, error) &&
                  parse_number(parser, "batch", 1, 1 << 20, a.options.n_batch, error) &&
                  parse_seed(parser, sp.seed, error);
  return ok ? QString() : error;
}

// Every flag into `a`. Returns the usage error, if any.
QString parse_generate_args(const QCommandLineParser& parser, GenerateArgs& a) {
  if (QString error = check_flag_combinations(parser, a); !error.isEmpty()) return error;
  if (QString error = parse_numbers(parser, a); !error.isEmpty()) return error;
  for (const QString& stop : parser.values("stop")) a.options.stop.push_back(stop.toStdString());
  try {
    a.offload = parse_offload_options(parser, a.recording_on);
  } catch (const Error& e) {
    return e.what();
  }
  a.json = parser.isSet("json");
  a.quiet = parser.isSet("quiet");
  a.stream = !a.json && !a.quiet;
  a.chat = parser.isSet("chat");
  a.system = parser.value("system").toStdString();
  a.label = parser.value("label").toStdString();
  a.router_logits = parser.isSet("router-logits");
  a.model.precision = parser.isSet("exact") ? MatmulPrecision::Exact : MatmulPrecision::Fast;
  if (a.recording_on) a.trace = parser.value("trace").toLocal8Bit().toStdString();
  return {};
}

// Where and how the run is recorded: the run's description (model, seed, every setting).
storage::RecordingConfig recording_config(const GenerateArgs& a, const Model& model,
                                          const std::string& model_path) {
  storage::RecordingConfig rc = base_recording_config(a.trace, a.label, a.router_logits, a.offload,
                                                      model, model_path, a.options.sampling.seed);
  storage::RunInfo& info = rc.info;
  const QJsonObject extra{{"command", a.name},
                          {"default_budget", a.offload.default_budget},
                          {"router_logits", rc.router_logits},
                          {"chat", a.chat}};
  info.settings_json =
      storage::settings_json(a.model, a.options, a.offload.config ? &*a.offload.config : nullptr,
                             QJsonDocument(extra).toJson(QJsonDocument::Compact).toStdString());
  return rc;
}

// The session's configuration: the expert store (budget fitted to the model), the lossy gating,
// the recording.
storage::SessionConfig session_config(GenerateArgs& a, const Model& model,
                                      const std::string& model_path) {
  a.offload.fit_budget(routed_expert_shape(model));
  storage::SessionConfig config;
  config.offload = a.offload.config;
  config.lossy = a.offload.lossy;
  if (a.recording_on) config.recording = recording_config(a, model, model_path);
  return config;
}

// Streams the text to stdout and moves the progress bar.
class CliListener final : public storage::SessionListener {
 public:
  CliListener(Progress& progress, bool stream) : progress_(progress), stream_(stream) {}
  void on_token(int64_t, const TokenEvent& event) override {
    if (event.id >= 0) progress_.update(event.index + 1);
    if (!stream_) return;
    std::fwrite(event.text.data(), 1, event.text.size(), stdout);
    std::fflush(stdout);
  }

 private:
  Progress& progress_;
  bool stream_;
};

void print_json(const GenerateArgs& a, const GenerationResult& result, const OffloadRun* offload,
                const std::optional<RecordedRun>& recorded) {
  const GenerationStats& st = result.stats;
  QJsonObject out = stats_json(st);
  out["text"] = QString::fromStdString(result.text);
  out["seed"] = QString::number(a.options.sampling.seed);
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
}

void print_text(const GenerateArgs& a, const GenerationStats& st, const OffloadRun* offload,
                const std::optional<RecordedRun>& recorded) {
  if (a.stream) {
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  print_stats(st, a.options.sampling.seed);
  if (recorded) {
    std::fprintf(stderr,
                 "recorded:  run %lld in %s (complete%s)\n"
                 "tokens:    %d prefill + %d decode forwarded, %.1f tokens/s prefill, %.1f "
                 "tokens/s decode\n"
                 "routing:   %lld entries\n",
                 static_cast<long long>(recorded->run), recorded->path.c_str(),
                 st.stop_reason == StopReason::kCancelled ? ", stopped by user" : "", st.n_prompt,
                 st.n_decoded, per_second(st.n_prompt, st.prefill_ms),
                 per_second(st.n_decoded, st.decode_ms),
                 static_cast<long long>(recorded->routing_entries));
  }
  if (offload) std::fputs(offload->summary_text().c_str(), stderr);
}

// Loads the model, runs the session and prints. Throws moescope::Error; `usage_problem` says
// whether it is the command line's (the prompt flags).
void run_session(const QCommandLineParser& parser, GenerateArgs& a, bool& usage_problem) {
  storage::GenerationRequest request;
  request.prompt = read_prompt(parser, usage_problem);
  usage_problem = false;
  request.parse_special = a.parse_special;
  request.options = a.options;
  if (a.recording_on) storage::check_trace_destination(a.trace);

  const std::string model_path = model_path_or_default(parser).toStdString();
  auto model = Model::load(model_path, a.model);
  auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());
  if (a.chat) request.prompt = format_chat_prompt(model->file(), request.prompt, a.system);

  storage::GenerationSession session(*model, *tokenizer, session_config(a, *model, model_path));
  // From here on Ctrl-C stops the generation cleanly instead of killing a half-made trace
  // (during the model load it still kills at once: there is nothing to finish yet).
  InterruptGuard interrupt_guard;
  Progress progress(a.recording_on ? "recording" : "generating",
                    std::max(a.options.max_new_tokens, 0), a.quiet || a.stream);
  CliListener listener(progress, a.stream);
  const storage::SessionResult result = session.run(request, listener, &g_interrupted);
  progress.finish();

  std::optional<OffloadRun> offload;
  if (a.offload.active()) offload.emplace(a.offload, *session.attachment());
  std::optional<RecordedRun> recorded;
  if (result.recording && session.store() != nullptr)
    recorded = describe_recording(*result.recording, *session.store());
  const OffloadRun* shown = offload ? &*offload : nullptr;
  if (a.json) {
    print_json(a, result.request.generation, shown, recorded);
  } else {
    print_text(a, result.request.generation.stats, shown, recorded);
  }
}

}  // namespace

int run_generation_command(const QStringList& args, bool record) {
  GenerateArgs a;
  a.record = record;
  a.name = record ? "record" : "generate";
  QCommandLineParser parser;
  add_generation_options(parser, record);
  if (const auto done = parse_command_line(parser, args)) return *done;
  if (const QString error = parse_generate_args(parser, a); !error.isEmpty()) {
    print_error(QString("%1: %2").arg(a.name, error));
    return kUsage;
  }
  bool usage_problem = false;
  try {
    run_session(parser, a, usage_problem);
  } catch (const Error& e) {
    print_error(usage_problem ? QString("%1: %2").arg(a.name, e.what()) : QString(e.what()));
    return usage_problem ? kUsage : kFailure;
  }
  return kSuccess;
}

int run_generate(const QStringList& args) {
  return run_generation_command(args, false);
}

}  // namespace moescope::cli
