#include "engine/tokenizer/vocab.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "engine/common/error.h"
#include "engine/gguf/gguf_file.h"
#include "engine/tokenizer/pre_tokenizer.h"
#include "engine/tokenizer/vocab_rules.h"

namespace moescope::tokenizer {

namespace {

// tokenizer.ggml.token_type values.
uint32_t attr_of_token_type(int32_t type) {
  switch (type) {
    case 1:
      return kAttrNormal;
    case 2:
      return kAttrUnknown;
    case 3:
      return kAttrControl;
    case 4:
      return kAttrUserDefined;
    case 5:
      return kAttrUnused;
    case 6:
      return kAttrByte;
    default:
      return kAttrUndefined;
  }
}

template <typename T>
const std::vector<T>* array_items(const gguf::GgufFile& file, std::string_view key,
                                  std::string_view expected, const std::string& where) {
  const gguf::ArrayValue* array = file.get_array(key);
  if (!array) return nullptr;
  const auto* items = std::get_if<std::vector<T>>(&array->items);
  if (!items) {
    fail("{}: {} must be an array of {}, not of {}", where, key, expected,
         gguf::value_type_name(array->element_type));
  }
  return items;
}

void read_tokens(const gguf::GgufFile& file, const std::string& where, Vocab& vocab) {
  const auto* tokens = array_items<std::string>(file, "tokenizer.ggml.tokens", "strings", where);
  if (!tokens) fail("{}: tokenizer.ggml.tokens is missing", where);
  if (tokens->empty()) fail("{}: tokenizer.ggml.tokens is empty", where);
  if (tokens->size() > static_cast<size_t>(INT32_MAX)) {
    fail("{}: tokenizer.ggml.tokens has too many entries", where);
  }
  const size_t n = tokens->size();

  std::vector<float> scores(n, 0.0f);
  if (file.has("tokenizer.ggml.scores")) {
    const gguf::ArrayValue* array = file.get_array("tokenizer.ggml.scores");
    const auto* f32 = array ? std::get_if<std::vector<float>>(&array->items) : nullptr;
    const auto* i32 = array ? std::get_if<std::vector<int32_t>>(&array->items) : nullptr;
    if (!f32 && !i32) fail("{}: tokenizer.ggml.scores must be an array of float32 or int32", where);
    const size_t n_scores = f32 ? f32->size() : i32->size();
    if (n_scores < n) {
      fail("{}: tokenizer.ggml.scores has {} entries for {} tokens", where, n_scores, n);
    }
    for (size_t i = 0; i < n; ++i) scores[i] = f32 ? (*f32)[i] : static_cast<float>((*i32)[i]);
  }

  std::vector<uint32_t> attrs(n, kAttrNormal);
  if (file.has("tokenizer.ggml.token_type")) {
    const auto* types = array_items<int32_t>(file, "tokenizer.ggml.token_type", "int32", where);
    if (!types) fail("{}: tokenizer.ggml.token_type must be an array of int32", where);
    if (types->size() < n) {
      fail("{}: tokenizer.ggml.token_type has {} entries for {} tokens", where, types->size(), n);
    }
    for (size_t i = 0; i < n; ++i) attrs[i] = attr_of_token_type((*types)[i]);
  }

  vocab.tokens.reserve(n);
  vocab.ids.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string text = (*tokens)[i];
    if (text.empty()) text = fmt::format("[EMPTY_{}]", i);  // as llama.cpp names empty tokens
    const auto [it, inserted] = vocab.ids.emplace(text, static_cast<int32_t>(i));
    if (!inserted) {
      fail("{}: duplicate token '{}' in the vocabulary (ids {} and {})", where, text, it->second,
           i);
    }
    vocab.tokens.push_back(std::move(text));
  }
  vocab.scores = std::move(scores);
  vocab.attrs = std::move(attrs);
}

void read_merges(const gguf::GgufFile& file, const std::string& where, Vocab& vocab) {
  const auto* merges = array_items<std::string>(file, "tokenizer.ggml.merges", "strings", where);
  if (!merges) fail("{}: BPE tokenizer without tokenizer.ggml.merges", where);
  if (merges->size() > static_cast<size_t>(INT32_MAX)) {
    fail("{}: tokenizer.ggml.merges has too many entries", where);
  }
  vocab.merge_ranks.reserve(merges->size());
  for (size_t i = 0; i < merges->size(); ++i) {
    const std::string& merge = (*merges)[i];
    // "left right", split at the first space after the first byte (a merge may start with one).
    const size_t space = merge.find(' ', 1);
    std::string key = space == std::string::npos ? std::string(" ") : merge;
    vocab.merge_ranks.try_emplace(std::move(key), static_cast<int32_t>(i));
  }
}

// tokenizer.ggml.*_token_id: ids outside the vocabulary are ignored (the default stays), and a
// default outside it is dropped, as llama.cpp does.
void read_special_ids(const gguf::GgufFile& file, Vocab& vocab) {
  SpecialIds& s = vocab.special;
  const std::pair<std::string_view, int32_t*> keys[] = {
      {"tokenizer.ggml.bos_token_id", &s.bos},
      {"tokenizer.ggml.eos_token_id", &s.eos},
      {"tokenizer.ggml.eot_token_id", &s.eot},
      {"tokenizer.ggml.eom_token_id", &s.eom},
      {"tokenizer.ggml.unknown_token_id", &s.unk},
      {"tokenizer.ggml.seperator_token_id", &s.sep},
      {"tokenizer.ggml.padding_token_id", &s.pad},
      {"tokenizer.ggml.mask_token_id", &s.mask},
      {"tokenizer.ggml.fim_pre_token_id", &s.fim_pre},
      {"tokenizer.ggml.fim_suf_token_id", &s.fim_suf},
      {"tokenizer.ggml.fim_mid_token_id", &s.fim_mid},
      {"tokenizer.ggml.fim_pad_token_id", &s.fim_pad},
      {"tokenizer.ggml.fim_rep_token_id", &s.fim_rep},
      {"tokenizer.ggml.fim_sep_token_id", &s.fim_sep},
      {"tokenizer.ggml.prefix_token_id", &s.fim_pre},
      {"tokenizer.ggml.suffix_token_id", &s.fim_suf},
      {"tokenizer.ggml.middle_token_id", &s.fim_mid},
  };
  for (const auto& [key, id] : keys) {
    if (*id >= vocab.n_tokens()) *id = kNoToken;
    const std::optional<int64_t> value = file.get_int(key);
    if (value && *value >= 0 && *value < vocab.n_tokens()) *id = static_cast<int32_t>(*value);
  }
}

}  // namespace

void check_vocab_metadata(const gguf::GgufFile& file) {
  const std::string where = file.path().string();
  const auto* tokens = array_items<std::string>(file, "tokenizer.ggml.tokens", "strings", where);
  if (!tokens) fail("{}: tokenizer.ggml.tokens is missing", where);
  if (tokens->empty()) fail("{}: tokenizer.ggml.tokens is empty", where);
  if (tokens->size() > static_cast<size_t>(INT32_MAX)) {
    fail("{}: tokenizer.ggml.tokens has too many entries", where);
  }
  if (std::all_of(tokens->begin(), tokens->end(), [](const std::string& t) { return t.empty(); })) {
    fail("{}: tokenizer.ggml.tokens holds only empty strings", where);
  }
  for (std::string_view key :
       {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
        "tokenizer.ggml.eom_token_id", "tokenizer.ggml.unknown_token_id"}) {
    const gguf::Value* value = file.find(key);
    if (value == nullptr) continue;
    const std::optional<int64_t> id = file.get_int(key);
    if (!id || *id < 0 || *id >= static_cast<int64_t>(tokens->size())) {
      fail("{}: {} is outside the vocabulary of {} tokens", where, key, tokens->size());
    }
  }
}

Vocab Vocab::from_gguf(const gguf::GgufFile& file) {
  const std::string where = file.path().string();
  Vocab vocab;

  const std::optional<std::string> model = file.get_string("tokenizer.ggml.model");
  if (!model) fail("{}: no tokenizer in the file (tokenizer.ggml.model is missing)", where);
  if (*model == "llama") {
    vocab.model = VocabModel::Spm;
    vocab.special.bos = 1;
    vocab.special.eos = 2;
    vocab.special.unk = 0;
    vocab.add_space_prefix = true;
    vocab.add_bos = true;
  } else if (*model == "gpt2") {
    vocab.model = VocabModel::Bpe;
    vocab.special.bos = 11;
    vocab.special.eos = 11;
    vocab.pre = file.get_string("tokenizer.ggml.pre").value_or("");
    if (vocab.pre.empty()) vocab.pre = "default";
    const PreTokenizerSpec* spec = find_pre_tokenizer(vocab.pre);
    if (!spec) {
      fail("{}: unsupported pre-tokenizer '{}' (tokenizer.ggml.pre; supported: {})", where,
           vocab.pre, supported_pre_tokenizers());
    }
    vocab.ignore_merges = spec->ignore_merges;
    vocab.clean_spaces = spec->clean_spaces;
    vocab.add_bos = spec->add_bos;
    read_merges(file, where, vocab);
  } else {
    fail("{}: unsupported tokenizer model '{}' (tokenizer.ggml.model; supported: llama, gpt2)",
         where, *model);
  }
  if (auto v = file.get_bool("tokenizer.ggml.add_space_prefix")) vocab.add_space_prefix = *v;

  check_vocab_metadata(file);
  read_tokens(file, where, vocab);
  read_special_ids(file, vocab);

  if (auto v = file.get_bool("tokenizer.ggml.add_bos_token")) vocab.add_bos = *v;
  if (auto v = file.get_bool("tokenizer.ggml.add_eos_token")) vocab.add_eos = *v;
  if (vocab.add_bos && vocab.special.bos == kNoToken) {
    fail("{}: tokenizer.ggml.add_bos_token is true but there is no BOS token", where);
  }
  if (vocab.add_eos && vocab.special.eos == kNoToken) {
    fail("{}: tokenizer.ggml.add_eos_token is true but there is no EOS token", where);
  }

  apply_token_rules(vocab, file.get_string("general.name").value_or(""));
  return vocab;
}

int32_t Vocab::find(std::string_view text) const {
  const auto it = ids.find(text);
  return it == ids.end() ? kNoToken : it->second;
}

int32_t Vocab::merge_rank(std::string_view left, std::string_view right) const {
  std::string key;
  key.reserve(left.size() + right.size() + 1);
  key.append(left).append(1, ' ').append(right);
  const auto it = merge_ranks.find(key);
  return it == merge_ranks.end() ? -1 : it->second;
}

}  // namespace moescope::tokenizer
