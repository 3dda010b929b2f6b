#include "engine/model/text_stream.h"

#include <algorithm>

namespace moescope {

TextStream::TextStream(std::vector<std::string> stop_strings) {
  for (auto& s : stop_strings) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

size_t TextStream::stop_prefix_hold() const {
  // The longest tail of pending_ that is a proper prefix of some stop string.
  size_t hold = 0;
  for (const auto& stop : stops_) {
    const size_t max_len = std::min(stop.size() - 1, pending_.size());
    for (size_t len = max_len; len > hold; --len) {
      if (std::string_view(pending_).substr(pending_.size() - len) ==
          std::string_view(stop).substr(0, len)) {
        hold = len;
        break;
      }
    }
  }
  return hold;
}

std::string TextStream::release(std::string_view text) {
  if (stopped_) return {};
  pending_.append(text);

  // pending_ never holds text that was already returned, and everything returned was ruled out as
  // the start of a stop string, so a match can only lie inside pending_.
  size_t first = std::string::npos;
  for (const auto& stop : stops_) {
    const size_t at = pending_.find(stop);
    if (at < first) {
      first = at;
      matched_ = stop;
    }
  }
  if (first != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, first);
    pending_.clear();
    return out;
  }

  const size_t hold = stop_prefix_hold();
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string TextStream::push(std::string_view bytes) {
  if (stopped_) return {};
  return release(utf8_.push(bytes));
}

std::string TextStream::finish() {
  std::string out = release(utf8_.finish());
  if (!stopped_) out += pending_;
  pending_.clear();
  return out;
}

}  // namespace moescope
