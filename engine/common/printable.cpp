#include "engine/common/printable.h"

#include <cstdint>

namespace moescope {
namespace {

// Length of the valid UTF-8 sequence starting at s[i] that encodes a printable code point, or 0.
size_t printable_sequence(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  if (b >= 0x20 && b < 0x7f) return 1;
  size_t len = 0;
  uint32_t cp = 0;
  if ((b & 0xe0) == 0xc0) {
    len = 2;
    cp = b & 0x1f;
  } else if ((b & 0xf0) == 0xe0) {
    len = 3;
    cp = b & 0x0f;
  } else if ((b & 0xf8) == 0xf0) {
    len = 4;
    cp = b & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;  // overlong
  if (cp >= 0x80 && cp < 0xa0) return 0;                                        // C1 controls
  if (cp == 0x2028 || cp == 0x2029) return 0;  // line / paragraph separators
  return len;
}

// Cuts `word` to its first `keep` bytes without splitting a UTF-8 sequence or an \xNN escape.
std::string shortened(const std::string& word, size_t keep) {
  size_t cut = keep;
  while (cut > 0 && (static_cast<unsigned char>(word[cut]) & 0xc0) == 0x80) --cut;
  const size_t escape = word.rfind("\\x", cut);
  if (escape != std::string::npos && escape + 4 > cut && escape < cut) cut = escape;
  return word.substr(0, cut) + "…";
}

}  // namespace

std::string printable_message(std::string_view raw) {
  // Escape and fold whitespace.
  std::string line;
  for (size_t i = 0; i < raw.size();) {
    const auto b = static_cast<unsigned char>(raw[i]);
    if (b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f') {
      if (!line.empty() && line.back() != ' ') line += ' ';
      ++i;
      continue;
    }
    if (const size_t n = printable_sequence(raw, i)) {
      line.append(raw.substr(i, n));
      i += n;
      continue;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    line += "\\x";
    line += kHex[b >> 4];
    line += kHex[b & 0xf];
    ++i;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();

  // Shorten long words (echoed arguments, text from files).
  std::string out;
  size_t start = 0;
  while (start <= line.size()) {
    size_t end = line.find(' ', start);
    if (end == std::string::npos) end = line.size();
    const std::string word = line.substr(start, end - start);
    out += word.size() > kMaxEchoedWord ? shortened(word, kEchoedWordKept) : word;
    if (end < line.size()) out += ' ';
    start = end + 1;
  }
  if (out.size() > kMaxMessageBytes) out = shortened(out, kMaxMessageBytes);
  return out;
}

}  // namespace moescope
