#include "engine/tokenizer/unicode_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "engine/common/error.h"

namespace moescope::tokenizer {

namespace {

// Generous for tokenizer patterns on any realistic text; reached only by pathological input.
constexpr uint32_t kMatchLimit = 50'000'000;

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  const int n = pcre2_get_error_message(code, buffer, sizeof(buffer));
  return n < 0 ? "unknown PCRE2 error" : std::string(reinterpret_cast<const char*>(buffer));
}

}  // namespace

struct UnicodeRegex::Impl {
  pcre2_code* code = nullptr;
  pcre2_match_context* context = nullptr;
  ~Impl() {
    pcre2_match_context_free(context);
    pcre2_code_free(code);
  }
};

UnicodeRegex::UnicodeRegex(std::string_view pattern) : pattern_(pattern), impl_(new Impl) {
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  impl_->code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &error, &error_offset, nullptr);
  if (!impl_->code) {
    fail("tokenizer regex '{}' does not compile at offset {}: {}", pattern, error_offset,
         pcre2_message(error));
  }
  impl_->context = pcre2_match_context_create(nullptr);
  if (!impl_->context) fail("out of memory creating a PCRE2 match context");
  pcre2_set_match_limit(impl_->context, kMatchLimit);
}

UnicodeRegex::UnicodeRegex(UnicodeRegex&&) noexcept = default;
UnicodeRegex& UnicodeRegex::operator=(UnicodeRegex&&) noexcept = default;
UnicodeRegex::~UnicodeRegex() = default;

void UnicodeRegex::for_each_match(std::string_view subject, size_t begin, size_t end,
                                  const std::function<void(size_t, size_t)>& on_match) const {
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> data(
      pcre2_match_data_create_from_pattern(impl_->code, nullptr), &pcre2_match_data_free);
  if (!data) fail("out of memory creating PCRE2 match data");
  const auto* span = reinterpret_cast<PCRE2_SPTR>(subject.data() + begin);
  const size_t length = end - begin;
  size_t offset = 0;
  while (offset < length) {
    const int rc = pcre2_match(impl_->code, span, length, offset, PCRE2_NO_UTF_CHECK, data.get(),
                               impl_->context);
    if (rc == PCRE2_ERROR_NOMATCH) return;
    if (rc < 0) {
      fail("tokenizer regex '{}' failed on the input: {}", pattern_, pcre2_message(rc));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
    const size_t match_begin = ovector[0];
    const size_t match_end = ovector[1];
    if (match_end > match_begin) {
      on_match(begin + match_begin, begin + match_end);
      offset = match_end;
    } else {
      // An empty match produces no piece; step over one whole code point and search again.
      offset = match_begin + 1;
      while (offset < length && (span[offset] & 0xC0) == 0x80) ++offset;
    }
  }
}

}  // namespace moescope::tokenizer
