#include "app/cli/command.h"

#include <QCoreApplication>

#include <cstdio>

#include "app/cli/commands.h"
#include "engine/common/printable.h"

namespace moescope::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"inspect", "Summarise a GGUF model: architecture, experts, sizes, support", run_inspect},
      {"eval", "Logits of every position of a prompt or token list, dumped as float32", run_eval},
      {"generate", "Generate text from a prompt, streamed as it is produced", run_generate},
      {"perplexity", "Perplexity on a text file, computed as llama-perplexity does",
       run_perplexity},
      {"bench", "Prompt and generation speed, like llama-bench's pp and tg", run_bench},
      {"tokenize", "Token ids of a text, as llama.cpp's tokenizer gives them", run_tokenize},
      {"routing-stats", "Per-layer expert load and routing statistics on a text file",
       run_routing_stats},
      {"pack", "Write a model's experts as an expert pack for offloading", run_pack},
      {"record", "Generate and record the run into a trace (routing, cache, policies)", run_record},
      {"runs", "List the runs a trace file holds", run_runs},
      {"replay", "Replay a traced run through cache policies and capacities", run_replay},
      {"export", "Export a trace run as CSV, JSON or a Perfetto timeline", run_export},
      {"report", "Write an HTML or PDF report of a trace run", run_report, true},
      {"import", "Import SGLang, vLLM or llama.cpp routing into a trace", run_import},
      {"placement", "Expert-parallel placement on a trace: contiguous vs EPLB vs affinity",
       run_placement},
      {"policies", "List the cache policies and prefetchers, or their tables (--markdown)",
       run_policies},
      {"batch", "Run many prompts at once (continuous batching): throughput, TTFT, experts/step",
       run_batch},
  };
  return all;
}

const Command* find_command(std::string_view name) {
  for (const auto& command : commands()) {
    if (name == command.name) return &command;
  }
  return nullptr;
}

void print_error(std::string_view message) {
  std::fprintf(stderr, "moescope: %s\n", printable_message(message).c_str());
}

void print_error(const char* message) {
  print_error(std::string_view(message));
}

void print_error(const QString& message) {
  print_error(std::string_view(message.toStdString()));
}

std::optional<int> parse_command_line(QCommandLineParser& parser, const QStringList& args) {
  const QString command = args.value(0);
  if (!parser.parse(args)) {
    print_error(QString("%1: %2").arg(command.section(' ', 1), parser.errorText()));
    return kUsage;
  }
  if (parser.isSet("help")) {
    // Qt names the binary's path in the usage line; name the subcommand instead.
    QString help = parser.helpText();
    const QString program = QCoreApplication::arguments().value(0);
    if (!program.isEmpty() && help.contains(program))
      help.replace(help.indexOf(program), program.size(), command);
    std::fputs(help.toUtf8().constData(), stdout);
    return kSuccess;
  }
  return std::nullopt;
}

}  // namespace moescope::cli
