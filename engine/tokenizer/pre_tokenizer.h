#pragma once
// Byte-level BPE pre-tokenization: the text is cut into words by a list of regexes, each applied
// to every piece the previous ones left (a match and the text between matches both become
// pieces), as llama.cpp's unicode_regex_split does for the `tokenizer.ggml.pre` variants.
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/unicode_regex.h"

namespace moescope::tokenizer {

struct PreTokenizerSpec {
  std::vector<std::string_view> names;     // tokenizer.ggml.pre values that select it
  std::vector<std::string_view> patterns;  // PCRE2 patterns, applied in order
  bool ignore_merges = false;              // vocab flags llama.cpp sets for these names
  bool clean_spaces = true;
  bool add_bos = false;
};

// nullptr for names llama.cpp would not accept here.
const PreTokenizerSpec* find_pre_tokenizer(std::string_view name);
// "default, gpt-2, ..." for error messages.
std::string supported_pre_tokenizers();

class PreTokenizer {
 public:
  explicit PreTokenizer(const PreTokenizerSpec& spec);

  // The words of `text`, in order. Invalid UTF-8 bytes come out as U+FFFD, as in llama.cpp;
  // otherwise the words concatenate to `text`.
  std::vector<std::string> split(std::string_view text) const;

 private:
  std::vector<UnicodeRegex> regexes_;
};

}  // namespace moescope::tokenizer
