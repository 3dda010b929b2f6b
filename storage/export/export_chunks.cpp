#include "storage/export/export_chunks.h"

#include <algorithm>
#include <limits>
#include <string>

#include "storage/counter_fields.h"

namespace moescope::storage {

void for_each_chunk(TraceReader& reader, int64_t run, const ExportOptions& options,
                    const std::function<void(TokenRange)>& visit) {
  int32_t extent = 0;
  for (const RunSummary& r : reader.runs()) {
    if (r.id == run) extent = r.n_tokens;
  }
  // n_tokens counts rows; positions are 0..n-1 in a sound trace, and the last call catches the
  // rest of a damaged one.
  const int32_t chunk = std::max(1, options.chunk_tokens);
  const int32_t first = std::max(0, options.positions.begin);
  const int32_t last = std::min(extent, options.positions.end);
  for (int32_t begin = first; begin < last; begin += chunk) {
    const int32_t end = begin + std::min(chunk, last - begin);
    visit({begin, end});
    if (options.progress) options.progress(end - first, last - first);
  }
  if (options.positions.end > extent) visit({std::max(extent, first), options.positions.end});
  if (options.progress) options.progress(std::max(0, last - first), std::max(0, last - first));
}

const std::vector<std::string_view>& counter_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    std::string_view all = kCounterColumns;
    while (!all.empty()) {
      const size_t comma = all.find(',');
      out.push_back(all.substr(0, comma));
      if (comma == std::string_view::npos) break;
      all.remove_prefix(comma + 1);
      while (!all.empty() && all.front() == ' ') all.remove_prefix(1);
    }
    return out;
  }();
  return names;
}

int32_t primary_policy(const std::vector<PolicyDescription>& policies) {
  for (const PolicyDescription& p : policies) {
    if (p.primary) return p.id;
  }
  return policies.empty() ? -1 : policies.front().id;
}

}  // namespace moescope::storage
