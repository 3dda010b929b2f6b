#pragma once
// --parse-special / --no-parse-special: whether control-token text written in the input (such as
// "<s>" or "<|im_start|>") becomes control tokens, as llama.cpp's tools offer it. Each command
// keeps llama.cpp's default for its counterpart: llama-tokenize and llama-cli parse special
// tokens; llama-perplexity (and the logits dumps `eval` is compared with) do not.
#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QList>

namespace moescope::cli {

inline QList<QCommandLineOption> special_tokens_options(bool parse_by_default) {
  return {
      QCommandLineOption("parse-special",
                         parse_by_default
                             ? "Parse control-token text such as <s> into control tokens (default)."
                             : "Parse control-token text such as <s> into control tokens."),
      QCommandLineOption("no-parse-special",
                         parse_by_default
                             ? "Tokenize control-token text such as <s> as plain text."
                             : "Tokenize control-token text such as <s> as plain text (default)."),
  };
}

// The switch's value; false with `error` set when both are given.
inline bool parse_special(const QCommandLineParser& parser, bool parse_by_default, bool& ok) {
  ok = !(parser.isSet("parse-special") && parser.isSet("no-parse-special"));
  if (parser.isSet("parse-special")) return true;
  if (parser.isSet("no-parse-special")) return false;
  return parse_by_default;
}

}  // namespace moescope::cli
