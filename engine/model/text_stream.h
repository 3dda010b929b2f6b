#pragma once
// Turning generated token pieces into text that is safe to show as it arrives. Two things can
// straddle token boundaries: a UTF-8 character (byte tokens emit one byte at a time) and a stop
// string ("\n\n" may come as "\n" + "\n"). The tokenizer's Utf8StreamDecoder releases whole
// characters; on top of it TextStream holds back the tail that could still become a stop string,
// and cuts the text before the first stop string once one appears. Bytes that are not UTF-8 are
// kept as they are, so the text is the tokens' pieces as llama.cpp's CLI prints them.
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/stream_decoder.h"

namespace moescope {

class TextStream {
 public:
  explicit TextStream(std::vector<std::string> stop_strings = {});

  // Appends one token's bytes and returns the text that can now be shown: complete characters
  // (and bytes that can never be part of one) that cannot be the start of a stop string. Once a
  // stop string appears, returns the text before it, sets stopped(), and ignores all later input.
  std::string push(std::string_view bytes);
  // The held-back tail at the end of generation (nothing after a stop).
  std::string finish();

  bool stopped() const { return stopped_; }
  // The stop string that ended the text (empty until stopped()).
  const std::string& matched_stop() const { return matched_; }

 private:
  // Applies the stop strings to text cut at character boundaries; returns what can be shown.
  std::string release(std::string_view text);
  size_t stop_prefix_hold() const;

  std::vector<std::string> stops_;
  tokenizer::Utf8StreamDecoder utf8_{tokenizer::InvalidUtf8::kKeep};
  std::string pending_;  // decoded but not yet returned
  bool stopped_ = false;
  std::string matched_;
};

}  // namespace moescope
