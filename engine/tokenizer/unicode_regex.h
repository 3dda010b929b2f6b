#pragma once
// A compiled PCRE2 pattern (UTF, Unicode properties, `$` only at the very end) that walks the
// matches inside one span of a valid UTF-8 subject. The span is the whole subject as far as the
// pattern can see, so lookaheads and `$` stop at its end, as std::regex_iterator over a sub-range
// does in llama.cpp.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace moescope::tokenizer {

class UnicodeRegex {
 public:
  // Throws moescope::Error with PCRE2's message and the offending offset.
  explicit UnicodeRegex(std::string_view pattern);
  UnicodeRegex(UnicodeRegex&&) noexcept;
  UnicodeRegex& operator=(UnicodeRegex&&) noexcept;
  ~UnicodeRegex();

  // Calls on_match(begin, end) for each non-empty match in subject[begin, end), left to right,
  // each search starting where the previous match ended; offsets are bytes into `subject`.
  // Throws moescope::Error if PCRE2 gives up (its backtracking limit), so that hostile input
  // fails instead of hanging.
  void for_each_match(std::string_view subject, size_t begin, size_t end,
                      const std::function<void(size_t, size_t)>& on_match) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Impl;
  std::string pattern_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace moescope::tokenizer
