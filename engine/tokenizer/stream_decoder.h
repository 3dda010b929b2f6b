#pragma once
// Streaming detokenisation: generated tokens arrive one at a time and a token's bytes may end in
// the middle of a UTF-8 character (byte-fallback and byte-level BPE tokens do), so text is
// released only up to the last complete character and the rest waits for the next token.
#include <cstdint>
#include <string>
#include <string_view>

namespace moescope::tokenizer {

class Tokenizer;

// What becomes of bytes that can never form a valid character (by RFC 3629: no overlong forms,
// surrogates or code points above U+10FFFF), and of a character the stream ends inside.
enum class InvalidUtf8 {
  kReplace,  // U+FFFD: the output is valid UTF-8
  kKeep,     // the bytes as they are: the output is exactly the input, only cut differently
};

// Cuts a byte stream into chunks of whole UTF-8 characters.
class Utf8StreamDecoder {
 public:
  explicit Utf8StreamDecoder(InvalidUtf8 invalid = InvalidUtf8::kReplace) : invalid_(invalid) {}

  // Returns the text completed by `bytes`; an unfinished character is kept for the next call.
  std::string push(std::string_view bytes);
  // Ends the stream, releasing an unfinished character as InvalidUtf8 says.
  std::string finish();
  size_t pending_bytes() const { return pending_.size(); }

 private:
  void append_invalid(std::string& out, std::string_view bytes) const;

  InvalidUtf8 invalid_;
  std::string pending_;
};

// Token ids in, valid UTF-8 out: the concatenation of the tokens' pieces (as token_piece gives
// them), released character by character.
class TokenStreamDecoder {
 public:
  explicit TokenStreamDecoder(const Tokenizer& tokenizer, bool render_special = false)
      : tokenizer_(tokenizer), render_special_(render_special) {}

  std::string push(int32_t token);
  std::string finish() { return bytes_.finish(); }

 private:
  const Tokenizer& tokenizer_;
  bool render_special_;
  Utf8StreamDecoder bytes_;
};

}  // namespace moescope::tokenizer
