// moescope perplexity [--model M] --file TEXT [--ctx N] [--chunks N] [--threads N] [--exact]
//                     [offloading flags as generate's] [--adaptive-topk T] [--substitute EPS]
//                     [--capacity G [--expand M] [--capacity-devices D]]
// llama-perplexity's method and output ("[1]x,[2]y,..." then "Final estimate: PPL = X +/- Y"), so
// the numbers compare with llama.cpp's. With offloading the number is the resident one exactly;
// the lossy gating flags change it, which is how their quality cost is measured. --capacity runs
// Capacity-Aware Inference's gating (engine/batching/capacity_gating.h) over each forward call:
// a chunk is one call of --ctx tokens, so C = ceil(G*k*ctx/E) per expert. The cache summary and
// the capacity totals go to stderr.
#include <QCommandLineParser>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "app/cli/capacity_options.h"
#include "app/cli/cli_input.h"
#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/default_model.h"
#include "app/cli/offload_options.h"
#include "app/cli/special_tokens_option.h"
#include "engine/batching/capacity_gating.h"
#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/model/perplexity.h"
#include "engine/model/routing.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope::cli {
namespace {}  // namespace

int run_perplexity(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Perplexity of a model on a text file, computed as llama-perplexity does: non-overlapping "
      "chunks of --ctx tokens, each scored on its second half.");
  parser.addHelpOption();
  parser.addOptions({
      {"model", "GGUF model file (default: the built-in model).", "M"},
      {"file", "UTF-8 text file.", "TEXT"},
      {"ctx", "Chunk length in tokens (default 512).", "N"},
      {"chunks", "Evaluate at most N chunks (default: all).", "N"},
      {"threads", "Worker threads (default: physical cores).", "N"},
      {"exact", "Dequantize weights exactly and compute in float (slow reference path)."},
  });
  parser.addOptions(capacity_options("forward call (T = --ctx: a chunk is one call)"));
  add_offload_options(parser);
  parser.addOptions(special_tokens_options(/*parse_by_default=*/false));  // as llama-perplexity
  if (auto done = parse_command_line(parser, args)) return *done;
  if (!parser.positionalArguments().isEmpty()) {
    print_error("perplexity: unexpected argument '" + parser.positionalArguments().first() + "'");
    return kUsage;
  }
  for (const char* required : {"file"}) {
    if (!parser.isSet(required)) {
      print_error(QString("perplexity: --%1 is required").arg(required));
      return kUsage;
    }
  }
  PerplexityOptions options;
  bool special_ok = true;
  options.parse_special = parse_special(parser, false, special_ok);
  if (!special_ok) {
    print_error("perplexity: give at most one of --parse-special and --no-parse-special");
    return kUsage;
  }
  int threads = 0;
  std::optional<batching::CapacityOptions> capacity;
  QString error;
  if (!parse_int(parser, "ctx", 4, 1 << 20, options.n_ctx, error) ||
      !parse_int(parser, "chunks", 1, 1 << 30, options.n_chunks, error) ||
      !parse_int(parser, "threads", 1, 1024, threads, error) ||
      !read_capacity_options(parser, capacity, error)) {
    print_error("perplexity: " + error);
    return kUsage;
  }
  OffloadRequest offload_request;
  try {
    offload_request = parse_offload_options(parser);
  } catch (const Error& e) {
    print_error(QString("perplexity: ") + e.what());
    return kUsage;
  }
  if (capacity && offload_request.lossy.any()) {
    print_error("perplexity: --capacity does not combine with --adaptive-topk or --substitute");
    return kUsage;
  }

  try {
    const std::string text = read_text_file(parser.value("file"), "perplexity");
    ModelOptions model_options;
    model_options.n_threads = threads;
    model_options.n_ctx = options.n_ctx;
    model_options.precision =
        parser.isSet("exact") ? MatmulPrecision::Exact : MatmulPrecision::Fast;
    auto model = Model::load(model_path_or_default(parser).toStdString(), model_options);
    auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());
    std::unique_ptr<OffloadRun> offload;
    if (offload_request.active()) offload = std::make_unique<OffloadRun>(*model, offload_request);
    std::unique_ptr<batching::CapacityGating> gating;
    if (capacity) {
      gating =
          std::make_unique<batching::CapacityGating>(*capacity, routing_params(model->hparams()));
      model->set_routing_override(gating.get());
    }

    const PerplexityResult result =
        compute_perplexity(*model, *tokenizer, text, options, [](int chunk, double running) {
          std::printf("[%d]%.4f,", chunk, running);
          std::fflush(stdout);
        });
    std::printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", result.ppl, result.ppl_error);
    std::fprintf(stderr,
                 "perplexity: %d tokens, %d chunks of %d, %d predictions scored, %.2f s "
                 "(%.1f tokens/s)\n",
                 result.n_tokens, result.n_chunks, options.n_ctx, result.n_scored, result.seconds,
                 result.seconds > 0 ? result.n_chunks * options.n_ctx / result.seconds : 0.0);
    if (gating) {
      model->set_routing_override(nullptr);
      const batching::CapacityTotals t = batching::capacity_totals(gating->records());
      std::fprintf(stderr,
                   "capacity:  LOSSY %s: %.2f %% of routings dropped, %.2f %% rerouted; straggler "
                   "%.3f before, %.3f after (mean over forward calls and layers)\n",
                   capacity->describe().c_str(), 100 * t.dropped_fraction(),
                   100 * t.rerouted_fraction(), t.mean_straggler_before, t.mean_straggler_after);
    }
    if (offload) std::fputs(offload->summary_text().c_str(), stderr);
  } catch (const Error& e) {
    print_error(e.what());
    return kFailure;
  }
  return kSuccess;
}

}  // namespace moescope::cli
