// `moescope tokenize [--model M] [--no-bos] [--no-parse-special] (TEXT | --file F)`: the token ids
// of a text on one line, space-separated, as llama-tokenize --ids computes them (BOS as the
// vocabulary asks, special tokens written in the text parsed).
#include <QCommandLineParser>

#include <cstdio>
#include <exception>
#include <string>

#include "app/cli/cli_input.h"
#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/default_model.h"
#include "app/cli/special_tokens_option.h"
#include "engine/common/error.h"
#include "engine/gguf/gguf_file.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope::cli {

int run_tokenize(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Print the token ids of a text on one line, space-separated, as llama.cpp tokenizes it.");
  parser.addHelpOption();
  const QCommandLineOption model_option(
      {"m", "model"}, "GGUF model or vocabulary file (default: the built-in model).", "M");
  const QCommandLineOption file_option({"f", "file"}, "Read the text from F, byte for byte.", "F");
  const QCommandLineOption no_bos_option("no-bos", "Do not add BOS/EOS tokens.");
  parser.addOptions({model_option, file_option, no_bos_option});
  parser.addOptions(special_tokens_options(/*parse_by_default=*/true));  // as llama-tokenize
  parser.addPositionalArgument("TEXT", "The text to tokenize, unless --file is given.");

  if (auto done = parse_command_line(parser, args)) return *done;
  bool special_ok = true;
  const bool parse_special_tokens = parse_special(parser, true, special_ok);
  if (!special_ok) {
    print_error("tokenize: give at most one of --parse-special and --no-parse-special");
    return kUsage;
  }
  const QStringList positional = parser.positionalArguments();
  if (parser.isSet(file_option) ? !positional.isEmpty() : positional.size() != 1) {
    print_error("tokenize: give either one TEXT argument or --file F");
    return kUsage;
  }

  try {
    const std::string text = parser.isSet(file_option)
                                 ? read_text_file(parser.value(file_option), "tokenize")
                                 : positional.front().toStdString();
    const auto file = gguf::GgufFile::open(model_path_or_default(parser).toStdString());
    const auto tokenizer = tokenizer::Tokenizer::from_gguf(file);
    const auto ids =
        tokenizer->encode(text, !parser.isSet(no_bos_option), parse_special_tokens);
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i > 0) line.push_back(' ');
      line += std::to_string(ids[i]);
    }
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
    return kSuccess;
  } catch (const std::exception& e) {
    print_error(QString("tokenize: %1").arg(QString::fromUtf8(e.what())));
    return kFailure;
  }
}

}  // namespace moescope::cli
