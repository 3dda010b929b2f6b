// moescope eval [--model M] (--prompt TEXT | --tokens FILE) --dump-logits OUT.f32 [--threads N]
//               [--exact]
// Runs the model over the tokens and writes the logits of every position, float32 little-endian
// [n_tokens][n_vocab], the layout of llama.cpp's reference dumps.
#include <QCommandLineParser>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli/cli_input.h"
#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/default_model.h"
#include "app/cli/special_tokens_option.h"
#include "engine/common/atomic_file.h"
#include "engine/common/error.h"
#include "engine/gguf/gguf_file.h"
#include "engine/model/hparams.h"
#include "engine/model/model.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope::cli {
namespace {

// Tokens per forward call: bounds the activation memory of long inputs (llama.cpp's n_batch).
constexpr size_t kChunk = 512;

// Whitespace-separated token ids, used as they are.
std::vector<int32_t> read_token_file(const std::string& path) {
  std::istringstream in(read_text_file(QString::fromLocal8Bit(path), "eval --tokens",
                                       qint64(256) << 20));
  std::vector<int32_t> tokens;
  std::string word;
  while (in >> word) {
    size_t used = 0;
    long long id = 0;
    try {
      id = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || id < INT32_MIN || id > INT32_MAX) {
      fail("token file '{}': '{}' is not a token id", path, word);
    }
    tokens.push_back(static_cast<int32_t>(id));
  }
  if (in.bad()) fail("cannot read token file '{}'", path);
  if (tokens.empty()) fail("token file '{}' holds no token ids", path);
  return tokens;
}

// A unique temporary file beside `path`, renamed into place: a failure leaves no partial output,
// and two evals writing the same file do not collide.
void write_logits(const std::filesystem::path& path, const std::vector<float>& logits) {
  AtomicFile out(path);
  out.write(logits.data(), logits.size() * sizeof(float));
  out.commit();
}

}  // namespace

int run_eval(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Logits for every position of a prompt or token list, as float32 [n_tokens][n_vocab].");
  parser.addHelpOption();
  parser.addOptions({
      {"model", "GGUF model file (default: the built-in model).", "M"},
      {"prompt", "Text to tokenize (BOS added as the model asks).", "TEXT"},
      {"tokens", "File of whitespace-separated token ids, used as they are (no BOS).", "FILE"},
      {"dump-logits", "Output file: float32 little-endian [n_tokens][n_vocab].", "OUT"},
      {"threads", "Worker threads (default: physical cores).", "N"},
      {"exact", "Reference arithmetic: weights dequantized exactly, activations in float32."},
  });
  // --prompt is plain text by default, as the llama.cpp logits dumps it is compared with.
  parser.addOptions(special_tokens_options(/*parse_by_default=*/false));
  if (auto done = parse_command_line(parser, args)) return *done;
  if (!parser.positionalArguments().isEmpty()) {
    print_error("eval: unexpected argument '" + parser.positionalArguments()[0] + "'");
    return kUsage;
  }
  if (parser.isSet("prompt") == parser.isSet("tokens")) {
    print_error("eval: give exactly one of --prompt and --tokens");
    return kUsage;
  }
  bool special_ok = true;
  const bool parse_special_tokens = parse_special(parser, false, special_ok);
  if (!special_ok) {
    print_error("eval: give at most one of --parse-special and --no-parse-special");
    return kUsage;
  }
  if (!parser.isSet("dump-logits")) {
    print_error("eval: --dump-logits is required");
    return kUsage;
  }
  ModelOptions options;
  if (parser.isSet("threads")) {
    bool ok = false;
    options.n_threads = parser.value("threads").toInt(&ok);
    if (!ok || options.n_threads < 1 || options.n_threads > 1024) {
      print_error("eval: --threads must be an integer from 1 to 1024");
      return kUsage;
    }
  }
  options.precision = parser.isSet("exact") ? MatmulPrecision::Exact : MatmulPrecision::Fast;

  try {
    auto file = gguf::GgufFile::open(model_path_or_default(parser).toStdString());
    const ModelHParams hparams = read_hparams(file);
    std::vector<int32_t> tokens;
    if (parser.isSet("prompt")) {
      const auto tokenizer = tokenizer::Tokenizer::from_gguf(file);
      tokens =
          tokenizer->encode(parser.value("prompt").toStdString(), true, parse_special_tokens);
      if (tokens.empty()) fail("the prompt gives no tokens");
    } else {
      tokens = read_token_file(parser.value("tokens").toStdString());
    }
    // The default context, or exactly the input when it is longer (the cache grows on demand).
    const int64_t n_ctx_default = std::min<int64_t>(hparams.n_ctx_train, 4096);
    if (static_cast<int64_t>(tokens.size()) > n_ctx_default) {
      options.n_ctx = static_cast<int>(tokens.size());
    }
    auto model = Model::load(std::move(file), options);
    auto state = model->new_state();
    const size_t n_vocab = static_cast<size_t>(model->n_vocab());
    std::vector<float> logits(tokens.size() * n_vocab);
    for (size_t begin = 0; begin < tokens.size(); begin += kChunk) {
      const size_t n = std::min(kChunk, tokens.size() - begin);
      model->forward({tokens.data() + begin, n}, *state,
                     {logits.data() + begin * n_vocab, n * n_vocab}, true);
    }
    write_logits(parser.value("dump-logits").toStdString(), logits);
    std::printf("eval: wrote %zu x %zu logits to %s\n", tokens.size(), n_vocab,
                parser.value("dump-logits").toUtf8().constData());
  } catch (const Error& e) {
    print_error(QString("eval: ") + e.what());
    return kFailure;
  } catch (const std::bad_alloc&) {
    print_error("eval: out of memory");
    return kFailure;
  }
  return kSuccess;
}

}  // namespace moescope::cli
