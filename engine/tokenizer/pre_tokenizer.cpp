#include "engine/tokenizer/pre_tokenizer.h"

#include <fmt/format.h>

#include "engine/tokenizer/unicode.h"

namespace moescope::tokenizer {

namespace {

// The patterns are llama.cpp's (llama-vocab.cpp), rewritten for PCRE2 so that they match what
// llama.cpp's std::regex and hand-written splitters match:
// - `\s` is spelled out as Unicode White_Space (WS below): llama.cpp maps every non-ASCII
//   White_Space code point to \v before matching, and PCRE2's own \s would miss U+0085.
// - llama.cpp matches \p{..} classes on a "collapsed" text whose ASCII part keeps only the
//   characters it lists; that list omits '~' from \p{S}, so \p{S} excludes '~' here too.
// - `$` means the end of the piece (PCRE2_DOLLAR_ENDONLY), as in ECMAScript.
#define WS             \
  "\\t\\n\\x0B\\f\\r " \
  "\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

constexpr std::string_view kGpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" WS "\\p{L}\\p{N}]+|[" WS "]+(?![^" WS "])";

#define CONTRACTIONS "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"

constexpr std::string_view kLlama3 =
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^" WS
                 "\\p{L}\\p{N}]+[\\r\\n]*"
                 "|[" WS "]*[\\r\\n]+|[" WS "]+(?![^" WS "])|[" WS "]+";

constexpr std::string_view kQwen2 =
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^" WS
                 "\\p{L}\\p{N}]+[\\r\\n]*"
                 "|[" WS "]*[\\r\\n]+|[" WS "]+(?![^" WS "])|[" WS "]+";

constexpr std::string_view kGpt4o =
    "[^\\r\\n\\p{L}\\p{N}]?(?:(?=\\p{L})[^a-z])*(?:(?=\\p{L})[^A-Z])+" CONTRACTIONS
    "?"
    "|[^\\r\\n\\p{L}\\p{N}]?(?:(?=\\p{L})[^a-z])+(?:(?=\\p{L})[^A-Z])*" CONTRACTIONS
    "?"
    "|\\p{N}{1,3}| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n/]*|[" WS "]*[\\r\\n]+|[" WS "]+(?![^" WS
    "])"
    "|[" WS "]+";

constexpr std::string_view kDeepseekV3Words =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+"
    "|(?:~|[^\\r\\n\\p{L}\\p{P}\\p{S}])?[\\p{L}\\p{M}]+| ?(?:(?!~)[\\p{P}\\p{S}])+[\\r\\n]*"
    "|[" WS "]*[\\r\\n]+|[" WS "]+(?![^" WS "])|[" WS "]+";

// DeepSeek LLM's cased letters: code points as llama.cpp's source spells them (Unicode text
// here would risk normalisation: U+2126 OHM and U+212A KELVIN are not Omega and K).
constexpr std::string_view kDeepseekLlmLetters =
    "[" WS
    "]?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"
    "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}"
    "\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}"
    "\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}"
    "\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}"
    "\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}"
    "\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}"
    "\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}"
    "\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}"
    "\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}"
    "\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}"
    "\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}"
    "\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}"
    "\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}"
    "\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}"
    "\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}"
    "\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+";

constexpr std::string_view kDeepseekLlmPunctuation =
    "[" WS
    "]?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+";

// `\s+$`. Only the whole trailing run can match, so starting inside a run is pointless; saying so
// keeps long runs of spaces linear instead of quadratic.
constexpr std::string_view kTrailingSpace = "(?<![" WS "])[" WS "]+$";

// CJK ideographs, everything from Samaritan up to U+4E00, and Hangul syllables.
constexpr std::string_view kDeepseekCjk =
    "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+";

const std::vector<PreTokenizerSpec>& specs() {
  static const std::vector<PreTokenizerSpec> all = {
      {.names = {"default"},
       .patterns = {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+", "[0-9][0-9][0-9]"}},
      {.names = {"gpt-2", "phi-2", "mpt", "olmo"}, .patterns = {kGpt2}},
      {.names = {"trillion", "granite-docling"}, .patterns = {kGpt2}, .clean_spaces = false},
      {.names = {"starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"},
       .patterns = {"\\p{N}", kGpt2}},
      {.names = {"command-r", "smollm"}, .patterns = {"\\p{N}", kGpt2}, .clean_spaces = false},
      {.names = {"falcon"}, .patterns = {"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2, "[0-9][0-9][0-9]"}},
      {.names = {"deepseek-llm"},
       .patterns = {"[\\r\\n]", kDeepseekLlmLetters, kDeepseekLlmPunctuation, kTrailingSpace,
                    kDeepseekCjk, "\\p{N}+"},
       .clean_spaces = false},
      {.names = {"deepseek-coder"},
       .patterns = {"[\\r\\n]", "[" WS "]?\\p{L}+", "[" WS "]?\\p{P}+", kDeepseekCjk, "\\p{N}"},
       .clean_spaces = false},
      {.names = {"deepseek-v3"},
       .patterns = {"\\p{N}{1,3}", "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
                    kDeepseekV3Words},
       .clean_spaces = false},
      {.names = {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0",
                 "lfm2"},
       .patterns = {kLlama3},
       .ignore_merges = true,
       .add_bos = true},
      {.names = {"dbrx", "smaug-bpe"}, .patterns = {kLlama3}},
      {.names = {"qwen2", "deepseek-r1-qwen"}, .patterns = {kQwen2}, .clean_spaces = false},
      {.names = {"stablelm2", "megrez"}, .patterns = {kQwen2}},
      {.names = {"gpt-4o", "llama4", "minimax-m2"}, .patterns = {kGpt4o}, .clean_spaces = false},
  };
  return all;
}

#undef CONTRACTIONS
#undef WS

}  // namespace

const PreTokenizerSpec* find_pre_tokenizer(std::string_view name) {
  for (const auto& spec : specs()) {
    for (auto n : spec.names) {
      if (n == name) return &spec;
    }
  }
  return nullptr;
}

std::string supported_pre_tokenizers() {
  std::string list;
  for (const auto& spec : specs()) {
    for (auto n : spec.names) list += fmt::format("{}{}", list.empty() ? "" : ", ", n);
  }
  return list;
}

PreTokenizer::PreTokenizer(const PreTokenizerSpec& spec) {
  for (auto pattern : spec.patterns) regexes_.emplace_back(pattern);
}

std::vector<std::string> PreTokenizer::split(std::string_view text) const {
  const std::vector<uint32_t> cps = decode_utf8_lenient(text);
  if (cps.empty()) return {};

  // The regexes see valid UTF-8: lone surrogates (which llama.cpp decodes and keeps) become U+FFFD
  // for matching only; both fall in the same classes of every pattern above.
  std::string subject;
  std::vector<size_t> cp_at_byte;  // [subject.size() + 1] code point index at each boundary
  subject.reserve(text.size());
  cp_at_byte.reserve(text.size() + 1);
  for (size_t i = 0; i < cps.size(); ++i) {
    const bool surrogate = cps[i] >= 0xD800 && cps[i] <= 0xDFFF;
    append_utf8(subject, surrogate ? kReplacementChar : cps[i]);
    cp_at_byte.resize(subject.size(), i);
  }
  cp_at_byte.push_back(cps.size());
  std::vector<size_t> byte_of_cp(cps.size() + 1);  // inverse of cp_at_byte at boundaries
  for (size_t b = subject.size() + 1; b-- > 0;) byte_of_cp[cp_at_byte[b]] = b;

  // Pieces as lengths in code points, refined by each regex in turn.
  std::vector<size_t> pieces = {cps.size()};
  for (const auto& regex : regexes_) {
    std::vector<size_t> refined;
    refined.reserve(pieces.size() * 2);
    size_t start = 0;
    for (size_t length : pieces) {
      size_t done = start;  // end of the last emitted piece, in code points
      regex.for_each_match(subject, byte_of_cp[start], byte_of_cp[start + length],
                           [&](size_t match_begin, size_t match_end) {
                             const size_t cp_begin = cp_at_byte[match_begin];
                             const size_t cp_end = cp_at_byte[match_end];
                             if (cp_begin > done) refined.push_back(cp_begin - done);
                             refined.push_back(cp_end - cp_begin);
                             done = cp_end;
                           });
      if (start + length > done) refined.push_back(start + length - done);
      start += length;
    }
    pieces = std::move(refined);
  }

  std::vector<std::string> words;
  words.reserve(pieces.size());
  size_t start = 0;
  for (size_t length : pieces) {
    std::string word;
    for (size_t i = start; i < start + length; ++i) append_utf8(word, cps[i]);
    words.push_back(std::move(word));
    start += length;
  }
  return words;
}

}  // namespace moescope::tokenizer
