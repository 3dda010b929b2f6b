// moescope perplexity [--model M] --file TEXT [--ctx N] [--chunks N] [--threads N] [--exact]
//                     [offloading flags as generate's] [--adaptive-topk T] [--substitute EPS]
// llama-perplexity's method and output ("[1]x,[2]y,..." then "Final estimate: PPL = X +/- Y"), so
// the numbers compare with llama.cpp's. With offloading the number is the resident one exactly;
// the lossy gating flags change it, which is how their quality cost is measured. The cache
// summary goes to stderr.
#include <QCommandLineParser>
#include <QFile>

#include <cstdio>
#include <memory>
#include <string>

#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/default_model.h"
#include "app/cli/offload_options.h"
#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/model/perplexity.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope::cli {
namespace {

bool parse_int(const QCommandLineParser& parser, const QString& name, int min, int max, int& value,
               QString& error) {
  if (!parser.isSet(name)) return true;
  bool ok = false;
  const QString text = parser.value(name);
  const long long v = text.toLongLong(&ok);
  if (!ok || v < min || v > max) {
    error = QString("--%1 expects a whole number from %2 to %3, got '%4'")
                .arg(name)
                .arg(min)
                .arg(max)
                .arg(text);
    return false;
  }
  value = static_cast<int>(v);
  return true;
}

// Text files are read whole; a size limit keeps a mistaken path (a model, a disk image) from
// exhausting memory.
constexpr qint64 kMaxTextBytes = 1LL << 30;

std::string read_text(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    fail("cannot read {}: {}", path.toStdString(), file.errorString().toStdString());
  }
  if (file.size() > kMaxTextBytes) {
    fail("{} is {} bytes; perplexity reads at most {} bytes of text", path.toStdString(),
         file.size(), kMaxTextBytes);
  }
  const QByteArray bytes = file.readAll();
  return std::string(bytes.constData(), static_cast<size_t>(bytes.size()));
}

}  // namespace

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
  add_offload_options(parser);
  if (!parser.parse(args)) {
    print_error("perplexity: " + parser.errorText());
    return kUsage;
  }
  if (parser.isSet("help")) {
    std::printf("%s", parser.helpText().toUtf8().constData());
    return kSuccess;
  }
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
  int threads = 0;
  QString error;
  if (!parse_int(parser, "ctx", 4, 1 << 20, options.n_ctx, error) ||
      !parse_int(parser, "chunks", 1, 1 << 30, options.n_chunks, error) ||
      !parse_int(parser, "threads", 1, 1024, threads, error)) {
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

  try {
    const std::string text = read_text(parser.value("file"));
    ModelOptions model_options;
    model_options.n_threads = threads;
    model_options.n_ctx = options.n_ctx;
    model_options.precision =
        parser.isSet("exact") ? MatmulPrecision::Exact : MatmulPrecision::Fast;
    auto model = Model::load(model_path_or_default(parser).toStdString(), model_options);
    auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());
    std::unique_ptr<OffloadRun> offload;
    if (offload_request.active()) offload = std::make_unique<OffloadRun>(*model, offload_request);

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
    if (offload) std::fputs(offload->summary_text().c_str(), stderr);
  } catch (const Error& e) {
    print_error(e.what());
    return kFailure;
  }
  return kSuccess;
}

}  // namespace moescope::cli
