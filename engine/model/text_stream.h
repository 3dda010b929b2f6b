#pragma once
// Turning generated token pieces into text that is safe to show as it arrives. Two things can
// straddle token boundaries: a UTF-8 character (byte tokens emit one byte at a time) and a stop
// string ("\n\n" may come as "\n" + "\n"). TextStream holds back exactly the tail that could still
// become either, and cuts the text before the first stop string once one appears.
#include <string>
#include <string_view>
#include <vector>

namespace moescope {

class TextStream {
 public:
  explicit TextStream(std::vector<std::string> stop_strings = {});

  // Appends one token's bytes and returns the text that can now be shown: complete characters
  // that cannot be the start of a stop string. Once a stop string appears, returns the text before
  // it, sets stopped(), and ignores all later input.
  std::string push(std::string_view bytes);
  // The held-back tail at the end of generation (nothing after a stop).
  std::string finish();

  bool stopped() const { return stopped_; }
  // The stop string that ended the text (empty until stopped()).
  const std::string& matched_stop() const { return matched_; }

 private:
  size_t stop_prefix_hold() const;

  std::vector<std::string> stops_;
  std::string pending_;  // received but not yet returned
  bool stopped_ = false;
  std::string matched_;
};

// How many bytes at the end of `text` form the beginning of a UTF-8 character that is not yet
// complete (0 when the text ends on a character boundary or with an invalid byte).
size_t incomplete_utf8_tail(std::string_view text);

}  // namespace moescope
