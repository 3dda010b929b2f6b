#pragma once
// The UTF-8 and byte-level helpers the tokenizers share. They reproduce llama.cpp's conventions,
// not the strict standard: decoding accepts overlong forms and surrogates, and each byte that
// starts no well-formed sequence becomes U+FFFD, so that text llama.cpp would alter is altered the
// same way here.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moescope::tokenizer {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Bytes in the sequence that `lead` starts, judged by its high nibble alone (1 for continuation
// bytes), as llama.cpp splits text into symbols.
size_t utf8_sequence_length(char lead);

// Code points of `text`; a byte that starts no complete sequence becomes U+FFFD and decoding goes
// on at the next byte.
std::vector<uint32_t> decode_utf8_lenient(std::string_view text);

// Appends the UTF-8 encoding of `cp`; code points above U+10FFFF are written as U+FFFD.
void append_utf8(std::string& out, uint32_t cp);
std::string encode_utf8(uint32_t cp);

// Unicode White_Space, the set llama.cpp's pre-tokenizers treat as `\s`.
bool is_whitespace(uint32_t cp);

// GPT-2's byte-level alphabet: every byte is shown as a printable code point, so that byte strings
// become text that BPE merges can name.
std::string_view gpt2_byte_to_text(uint8_t byte);
// The byte a code point of that alphabet stands for, or -1.
int gpt2_text_to_byte(uint32_t cp);

}  // namespace moescope::tokenizer
