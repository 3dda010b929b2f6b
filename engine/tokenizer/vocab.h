#pragma once
// A tokenizer vocabulary as read from GGUF metadata (tokenizer.ggml.*), with the load-time rules
// of llama.cpp applied (default special ids, add_bos/add_eos defaults, control-token and
// end-of-generation detection by text, per-model strip attributes), so that the tokenizers built
// on it produce llama.cpp's ids.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace moescope::gguf {
class GgufFile;
}

namespace moescope::tokenizer {

inline constexpr int32_t kNoToken = -1;

// Lets maps keyed by std::string be searched with a std::string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename T>
using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

enum class VocabModel { Spm, Bpe };  // tokenizer.ggml.model "llama" and "gpt2"

// Token attribute bits, as llama.cpp derives them from tokenizer.ggml.token_type.
enum TokenAttr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrLstrip = 1u << 7,  // strip whitespace left of the token when it is matched in text
  kAttrRstrip = 1u << 8,  // ... and right of it
};

struct SpecialIds {
  int32_t bos = kNoToken;
  int32_t eos = kNoToken;
  int32_t eot = kNoToken;
  int32_t eom = kNoToken;
  int32_t unk = kNoToken;
  int32_t sep = kNoToken;
  int32_t pad = kNoToken;
  int32_t mask = kNoToken;
  int32_t fim_pre = kNoToken;
  int32_t fim_suf = kNoToken;
  int32_t fim_mid = kNoToken;
  int32_t fim_pad = kNoToken;
  int32_t fim_rep = kNoToken;
  int32_t fim_sep = kNoToken;
};

struct Vocab {
  VocabModel model = VocabModel::Spm;
  std::string pre;  // tokenizer.ggml.pre; "default" when a BPE vocabulary names none

  std::vector<std::string> tokens;  // [n_vocab] token text as stored
  std::vector<float> scores;        // [n_vocab] SentencePiece piece scores (0 when absent)
  std::vector<uint32_t> attrs;      // [n_vocab] TokenAttr bits
  StringMap<int32_t> ids;           // token text -> id

  // BPE merges: "left right" -> rank (the merge's index; the first of duplicates wins).
  StringMap<int32_t> merge_ranks;

  SpecialIds special;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;  // SPM: prefix a space to the text (and after special tokens)
  bool clean_spaces = false;      // decode: drop spaces before punctuation, as HF tokenizers do
  bool ignore_merges = false;     // BPE: a pre-tokenized word that is a token is taken whole

  std::set<int32_t> eog;                // tokens that end generation
  std::vector<int32_t> special_tokens;  // control, user-defined and unknown tokens, longest first

  // Throws moescope::Error naming the file and the problem (unsupported tokenizer model, missing
  // or malformed arrays, duplicate tokens, unknown pre-tokenizer, ...).
  static Vocab from_gguf(const gguf::GgufFile& file);

  int32_t n_tokens() const { return static_cast<int32_t>(tokens.size()); }
  int32_t find(std::string_view text) const;                                // kNoToken when absent
  int32_t merge_rank(std::string_view left, std::string_view right) const;  // -1 when absent
  bool has_attr(int32_t id, uint32_t attr) const { return (attrs[id] & attr) != 0; }
};

// The checks of the vocabulary a model needs before it can run, cheap enough for every load: the
// token list exists and is not all empty strings, and the ids generation relies on (BOS, EOS,
// EOT, EOM, UNK), when stored, are inside it. Throws moescope::Error naming the key. Other
// special ids outside the vocabulary are ignored, as llama.cpp does.
void check_vocab_metadata(const gguf::GgufFile& file);

}  // namespace moescope::tokenizer
