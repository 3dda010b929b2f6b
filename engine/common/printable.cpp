#include "engine/common/printable.h"

#include <cstdint>

#include "engine/common/utf8.h"

namespace moescope {
namespace {

// Length of the UTF-8 sequence at s[i] when it encodes a printable code point, else 0.
size_t printable_sequence(std::string_view s, size_t i) {
  uint32_t cp = 0;
  const size_t len = utf8_sequence(s, i, cp);
  if (len == 0 || cp < 0x20 || cp == 0x7f) return 0;
  if (cp >= 0x80 && cp < 0xa0) return 0;       // C1 controls
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
