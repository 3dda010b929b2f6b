#include "engine/tokenizer/vocab_rules.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string>

namespace moescope::tokenizer {

namespace {

using Texts = std::initializer_list<std::string_view>;

// "<｜end▁of▁sentence｜>" and friends use U+FF5C and U+2581.
#define FW_BAR "\uFF5C"
#define LOWER_BLOCK "\u2581"

const Texts kEotTexts = {"<|eot_id|>",
                         "<|im_end|>",
                         "<|end|>",
                         "<end_of_turn>",
                         "<|endoftext|>",
                         "<|end_of_text|>",
                         "<EOT>",
                         "_<EOT>",
                         "[EOT]",
                         "<" FW_BAR "end" LOWER_BLOCK "of" LOWER_BLOCK "sentence" FW_BAR ">",
                         "<end_of_utterance>"};
const Texts kEomTexts = {"<|eom_id|>"};
const Texts kFimPreTexts = {"<|fim_prefix|>",  "<fim-prefix>",
                            "<fim_prefix>",    "<" FW_BAR "fim" LOWER_BLOCK "begin" FW_BAR ">",
                            "<PRE>",           LOWER_BLOCK "<PRE>",
                            "<|code_prefix|>", "<|prefix|>"};
const Texts kFimSufTexts = {"<|fim_suffix|>",  "<fim-suffix>",
                            "<fim_suffix>",    "<" FW_BAR "fim" LOWER_BLOCK "hole" FW_BAR ">",
                            "<SUF>",           LOWER_BLOCK "<SUF>",
                            "<|code_suffix|>", "<|suffix|>"};
const Texts kFimMidTexts = {"<|fim_middle|>",  "<fim-middle>",
                            "<fim_middle>",    "<" FW_BAR "fim" LOWER_BLOCK "end" FW_BAR ">",
                            "<MID>",           LOWER_BLOCK "<MID>",
                            "<|code_middle|>", "<|middle|>"};
const Texts kFimPadTexts = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"};
const Texts kFimRepTexts = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"};
const Texts kFimSepTexts = {"<|file_sep|>"};
const Texts kEogTexts = {"<|eot_id|>",
                         "<|im_end|>",
                         "<|end|>",
                         "<|return|>",
                         "<|call|>",
                         "<|flush|>",
                         "<|calls|>",
                         "<end_of_turn>",
                         "<|endoftext|>",
                         "</s>",
                         "<|eom_id|>",
                         "<EOT>",
                         "_<EOT>",
                         "[EOT]",
                         "[EOS]",
                         "<|end_of_text|>",
                         "<end_of_utterance>",
                         "<eos>",
                         "<turn|>",
                         "<|tool_response>",
                         "<" FW_BAR "end" LOWER_BLOCK "of" LOWER_BLOCK "sentence" FW_BAR ">",
                         "[e~["};
// gpt-oss's harmony markers are always rendered.
const Texts kAlwaysRenderedTexts = {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"};

#undef FW_BAR
#undef LOWER_BLOCK

bool is_one_of(std::string_view text, Texts texts) {
  return std::find(texts.begin(), texts.end(), text) != texts.end();
}

// llama.cpp takes the first match in hash-map order; ascending ids make the choice reproducible.
void detect(Vocab& vocab, int32_t& id, Texts texts) {
  if (id != kNoToken) return;
  for (int32_t t = 0; t < vocab.n_tokens(); ++t) {
    if (is_one_of(vocab.tokens[t], texts)) {
      id = t;
      vocab.attrs[t] |= kAttrControl;
      return;
    }
  }
}

void build_eog_set(Vocab& vocab) {
  SpecialIds& s = vocab.special;
  for (int32_t id : {s.fim_pad, s.fim_rep, s.fim_sep}) {
    if (id != kNoToken) vocab.eog.insert(id);
  }
  for (int32_t t = 0; t < vocab.n_tokens(); ++t) {
    if (is_one_of(vocab.tokens[t], kEogTexts)) {
      vocab.eog.insert(t);
      vocab.attrs[t] |= kAttrControl;
    }
  }
  for (int32_t t = 0; t < vocab.n_tokens(); ++t) {
    if (is_one_of(vocab.tokens[t], kAlwaysRenderedTexts)) vocab.attrs[t] = kAttrUserDefined;
  }
  for (int32_t id : {s.eos, s.eot, s.eom}) {
    if (id != kNoToken) vocab.eog.insert(id);
  }

  // Harmony (gpt-oss) and Solar Open end turns with <|return|>/<|call|>; <|end|> only ends a
  // message there. Gemma 4's </s> is not an end either.
  auto eog_with_text = [&](Texts texts) {
    for (int32_t id : vocab.eog) {
      if (is_one_of(vocab.tokens[id], texts)) return id;
    }
    return kNoToken;
  };
  const int32_t end = eog_with_text({"<|end|>"});
  const bool has_return = eog_with_text({"<|return|>"}) != kNoToken;
  const bool has_call = eog_with_text({"<|call|>", "<|calls|>"}) != kNoToken;
  const bool has_flush = eog_with_text({"<|flush|>"}) != kNoToken;
  if (end != kNoToken && has_call && (has_return || has_flush)) {
    vocab.eog.erase(end);
    vocab.attrs[end] = kAttrUserDefined;
  }
  const int32_t closing_s = eog_with_text({"</s>"});
  if (closing_s != kNoToken && eog_with_text({"<|tool_response>"}) != kNoToken) {
    vocab.eog.erase(closing_s);
    vocab.attrs[closing_s] = kAttrNormal;
  }
}

}  // namespace

void apply_token_rules(Vocab& vocab, std::string_view model_name) {
  SpecialIds& s = vocab.special;
  detect(vocab, s.eot, kEotTexts);
  detect(vocab, s.eom, kEomTexts);
  detect(vocab, s.fim_pre, kFimPreTexts);
  detect(vocab, s.fim_suf, kFimSufTexts);
  detect(vocab, s.fim_mid, kFimMidTexts);
  detect(vocab, s.fim_pad, kFimPadTexts);
  detect(vocab, s.fim_rep, kFimRepTexts);
  detect(vocab, s.fim_sep, kFimSepTexts);

  for (int32_t t = 0; t < vocab.n_tokens(); ++t) {
    if (vocab.has_attr(t, kAttrControl) && vocab.tokens[t].find("unused") != std::string::npos) {
      vocab.attrs[t] |= kAttrUnused;
    }
  }
  build_eog_set(vocab);

  // Text matching tries longer special tokens first, so that one containing another wins.
  vocab.special_tokens.clear();
  for (int32_t t = 0; t < vocab.n_tokens(); ++t) {
    if (vocab.has_attr(t, kAttrControl | kAttrUserDefined | kAttrUnknown)) {
      vocab.special_tokens.push_back(t);
    }
  }
  std::stable_sort(
      vocab.special_tokens.begin(), vocab.special_tokens.end(),
      [&](int32_t a, int32_t b) { return vocab.tokens[a].size() > vocab.tokens[b].size(); });

  std::string name(model_name);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (int32_t t : vocab.special_tokens) vocab.attrs[t] |= kAttrRstrip;
    if (int32_t t = vocab.find("</s>"); t != kNoToken) vocab.attrs[t] |= kAttrRstrip;
    for (std::string_view text : {"<unk>", "<s>", "<|endoftext|>"}) {
      if (int32_t t = vocab.find(text); t != kNoToken) vocab.attrs[t] &= ~kAttrRstrip;
    }
  }
}

}  // namespace moescope::tokenizer
