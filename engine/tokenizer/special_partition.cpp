#include "engine/tokenizer/special_partition.h"

namespace moescope::tokenizer {

namespace {

// isspace() in the C locale.
bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Splits one text fragment at every occurrence of `special`, appending the result to `out`.
void split_fragment(const Vocab& vocab, std::string_view text, const Fragment& fragment,
                    int32_t special, std::vector<Fragment>& out) {
  const std::string_view needle = vocab.tokens[special];
  const bool lstrip = vocab.has_attr(special, kAttrLstrip);
  const bool rstrip = vocab.has_attr(special, kAttrRstrip);
  const size_t end = fragment.offset + fragment.length;
  size_t pos = fragment.offset;
  while (pos < end) {
    const size_t match = text.substr(0, end).find(needle, pos);
    if (match == std::string_view::npos) break;
    size_t left_end = match;
    if (lstrip) {
      while (left_end > pos && is_ascii_space(text[left_end - 1])) --left_end;
    }
    if (left_end > pos) out.push_back({kNoToken, pos, left_end - pos});
    out.push_back({special, 0, 0});
    pos = match + needle.size();
    if (rstrip) {
      while (pos < end && is_ascii_space(text[pos])) ++pos;
    }
  }
  if (pos < end) out.push_back({kNoToken, pos, end - pos});
}

}  // namespace

std::vector<Fragment> partition_special_tokens(const Vocab& vocab, std::string_view text,
                                               bool parse_special) {
  std::vector<Fragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({kNoToken, 0, text.size()});
  std::vector<Fragment> next;
  for (int32_t special : vocab.special_tokens) {
    if (!parse_special && vocab.has_attr(special, kAttrControl | kAttrUnknown)) continue;
    next.clear();
    for (const Fragment& fragment : fragments) {
      if (fragment.is_text()) {
        split_fragment(vocab, text, fragment, special, next);
      } else {
        next.push_back(fragment);
      }
    }
    fragments.swap(next);
  }
  return fragments;
}

}  // namespace moescope::tokenizer
