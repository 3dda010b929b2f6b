#include "engine/tokenizer/stream_decoder.h"

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/unicode.h"

namespace moescope::tokenizer {

namespace {

// Length of the well-formed sequence `lead` starts, or 0 if no sequence starts with it.
size_t sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// Whether `byte` may follow at position `index` (>= 1) of a sequence led by `lead`.
bool valid_continuation(uint8_t lead, size_t index, uint8_t byte) {
  if ((byte & 0xC0) != 0x80) return false;
  if (index != 1) return true;
  switch (lead) {
    case 0xE0:
      return byte >= 0xA0;  // no overlong 3-byte forms
    case 0xED:
      return byte <= 0x9F;  // no surrogates
    case 0xF0:
      return byte >= 0x90;  // no overlong 4-byte forms
    case 0xF4:
      return byte <= 0x8F;  // nothing above U+10FFFF
    default:
      return true;
  }
}

}  // namespace

std::string Utf8StreamDecoder::push(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    const uint8_t lead = static_cast<uint8_t>(pending_[i]);
    const size_t length = sequence_length(lead);
    if (length == 0) {
      append_invalid(out, std::string_view(pending_).substr(i, 1));
      ++i;
      continue;
    }
    size_t have = 1;
    while (have < length && i + have < pending_.size() &&
           valid_continuation(lead, have, static_cast<uint8_t>(pending_[i + have]))) {
      ++have;
    }
    if (have == length) {
      out.append(pending_, i, length);
      i += length;
    } else if (i + have == pending_.size()) {
      break;  // a valid beginning that the next bytes may complete
    } else {
      append_invalid(out, std::string_view(pending_).substr(i, have));  // broken at i + have
      i += have;
    }
  }
  pending_.erase(0, i);
  return out;
}

std::string Utf8StreamDecoder::finish() {
  std::string out;
  if (!pending_.empty()) append_invalid(out, pending_);
  pending_.clear();
  return out;
}

void Utf8StreamDecoder::append_invalid(std::string& out, std::string_view bytes) const {
  if (invalid_ == InvalidUtf8::kKeep) {
    out.append(bytes);
  } else {
    append_utf8(out, kReplacementChar);
  }
}

std::string TokenStreamDecoder::push(int32_t token) {
  return bytes_.push(tokenizer_.token_piece(token, render_special_));
}

}  // namespace moescope::tokenizer
