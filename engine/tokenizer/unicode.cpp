#include "engine/tokenizer/unicode.h"

#include <array>

namespace moescope::tokenizer {

size_t utf8_sequence_length(char lead) {
  static constexpr std::array<uint8_t, 16> kLengthByHighNibble = {1, 1, 1, 1, 1, 1, 1, 1,
                                                                  1, 1, 1, 1, 2, 2, 3, 4};
  return kLengthByHighNibble[static_cast<uint8_t>(lead) >> 4];
}

std::vector<uint32_t> decode_utf8_lenient(std::string_view text) {
  std::vector<uint32_t> cps;
  cps.reserve(text.size());
  auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  auto continuation = [&](size_t i) { return i < text.size() && (byte(i) & 0xC0) == 0x80; };
  size_t i = 0;
  while (i < text.size()) {
    const uint8_t b0 = byte(i);
    if (b0 < 0x80) {
      cps.push_back(b0);
      i += 1;
    } else if ((b0 & 0xE0) == 0xC0 && continuation(i + 1)) {
      cps.push_back((uint32_t{b0 & 0x1Fu} << 6) | (byte(i + 1) & 0x3F));
      i += 2;
    } else if ((b0 & 0xF0) == 0xE0 && continuation(i + 1) && continuation(i + 2)) {
      cps.push_back((uint32_t{b0 & 0x0Fu} << 12) | (uint32_t{byte(i + 1) & 0x3Fu} << 6) |
                    (byte(i + 2) & 0x3F));
      i += 3;
    } else if ((b0 & 0xF8) == 0xF0 && continuation(i + 1) && continuation(i + 2) &&
               continuation(i + 3)) {
      const uint32_t cp = (uint32_t{b0 & 0x07u} << 18) | (uint32_t{byte(i + 1) & 0x3Fu} << 12) |
                          (uint32_t{byte(i + 2) & 0x3Fu} << 6) | (byte(i + 3) & 0x3F);
      // llama.cpp cannot re-encode code points past U+10FFFF (it throws); treat them as invalid.
      if (cp > 0x10FFFF) {
        cps.push_back(kReplacementChar);
        i += 1;
        continue;
      }
      cps.push_back(cp);
      i += 4;
    } else {
      cps.push_back(kReplacementChar);
      i += 1;
    }
  }
  return cps;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp > 0x10FFFF) cp = kReplacementChar;
  if (cp <= 0x7F) {
    out.push_back(static_cast<char>(cp));
  } else if (cp <= 0x7FF) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp <= 0xFFFF) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(uint32_t cp) {
  std::string out;
  append_utf8(out, cp);
  return out;
}

bool is_whitespace(uint32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

namespace {

// Printable bytes stand for themselves; the other 68 take code points 256, 257, ... in byte order.
struct Gpt2Alphabet {
  std::array<uint32_t, 256> byte_to_cp{};
  std::array<std::string, 256> byte_to_text;
  std::array<int16_t, 512> cp_to_byte{};  // every code point of the alphabet is below 324

  Gpt2Alphabet() {
    cp_to_byte.fill(-1);
    uint32_t next_extra = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      byte_to_cp[b] = printable ? b : next_extra++;
      byte_to_text[b] = encode_utf8(byte_to_cp[b]);
      cp_to_byte[byte_to_cp[b]] = static_cast<int16_t>(b);
    }
  }
};

const Gpt2Alphabet& gpt2_alphabet() {
  static const Gpt2Alphabet alphabet;
  return alphabet;
}

}  // namespace

std::string_view gpt2_byte_to_text(uint8_t byte) {
  return gpt2_alphabet().byte_to_text[byte];
}

int gpt2_text_to_byte(uint32_t cp) {
  return cp < gpt2_alphabet().cp_to_byte.size() ? gpt2_alphabet().cp_to_byte[cp] : -1;
}

}  // namespace moescope::tokenizer
