#include "storage/routing_blob.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "engine/common/error.h"

namespace moescope::storage {
namespace {

static_assert(std::endian::native == std::endian::little, "traces are little-endian");

template <typename T>
void append(std::vector<std::byte>& out, T v) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

template <typename T>
std::vector<T> read_all(std::span<const std::byte> blob) {
  std::vector<T> v(blob.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), blob.data(), v.size() * sizeof(T));
  return v;
}

}  // namespace

int expert_id_width(const policy::MoeShape& shape) {
  const int32_t most = shape.n_experts.empty()
                           ? 0
                           : *std::max_element(shape.n_experts.begin(), shape.n_experts.end());
  return most > 256 ? 2 : 1;
}

void RoutingBlobs::clear() {
  counts.clear();
  experts.clear();
  weights.clear();
  logits.clear();
  cache.clear();
  default_counts = true;
  any_cache = false;
}

void RoutingBlobs::add_layer(const policy::MoeShape& shape, int width, int32_t layer,
                             std::span<const ExpertId> ex, std::span<const float> w,
                             std::span<const float> g, std::span<const uint8_t> c) {
  counts.push_back(std::byte(ex.size()));
  default_counts = default_counts && int32_t(ex.size()) == shape.top_k[size_t(layer)];
  for (size_t i = 0; i < ex.size(); ++i) {
    if (width == 1) {
      experts.push_back(std::byte(uint8_t(ex[i].value)));
    } else {
      append(experts, uint16_t(ex[i].value));
    }
    append(weights, w[i]);
    append(logits, g[i]);
    const uint8_t o = i < c.size() ? c[i] : 0;
    cache.push_back(std::byte(o));
    any_cache = any_cache || o != 0;
  }
}

void decode_routing(const policy::MoeShape& shape, int width, std::span<const std::byte> counts,
                    std::span<const std::byte> experts, std::span<const std::byte> weights,
                    std::span<const std::byte> logits, std::span<const std::byte> cache,
                    DecodedRouting& out, const char* what) {
  const int32_t L = shape.n_layers();
  out.counts.resize(size_t(L));
  if (counts.empty()) {
    for (int32_t l = 0; l < L; ++l) out.counts[size_t(l)] = uint8_t(shape.top_k[size_t(l)]);
  } else {
    if (counts.size() != size_t(L))
      fail("{}: routing counts for {} layers, not {}", what, counts.size(), L);
    std::memcpy(out.counts.data(), counts.data(), size_t(L));
  }
  out.offset.resize(size_t(L) + 1);
  out.offset[0] = 0;
  for (int32_t l = 0; l < L; ++l)
    out.offset[size_t(l) + 1] = out.offset[size_t(l)] + out.counts[size_t(l)];
  const auto n = size_t(out.offset.back());
  // Empty weights and logits: not recorded (an imported run); read as equal weights.
  const bool no_weights = weights.empty() && logits.empty();
  if (experts.size() != n * size_t(width) || (!no_weights && weights.size() != n * 4) ||
      (!no_weights && logits.size() != n * 4) || (!cache.empty() && cache.size() != n)) {
    fail("{}: routing arrays do not match {} entries", what, n);
  }
  out.experts.resize(n);
  for (size_t i = 0; i < n; ++i) {
    uint16_t e = 0;
    if (width == 1) {
      e = uint8_t(experts[i]);
    } else {
      std::memcpy(&e, experts.data() + 2 * i, 2);
    }
    out.experts[i] = ExpertId(e);
  }
  for (int32_t l = 0; l < L; ++l) {
    for (int64_t i = out.offset[size_t(l)]; i < out.offset[size_t(l) + 1]; ++i) {
      if (out.experts[size_t(i)].value >= shape.n_experts[size_t(l)]) {
        fail("{}: expert {} of layer {} does not exist", what, out.experts[size_t(i)].value, l);
      }
    }
  }
  if (no_weights) {
    out.weights.resize(n);
    out.logits.assign(n, 0.0f);
    for (int32_t l = 0; l < L; ++l) {
      const int64_t b = out.offset[size_t(l)], e = out.offset[size_t(l) + 1];
      for (int64_t i = b; i < e; ++i) out.weights[size_t(i)] = 1.0f / float(e - b);
    }
  } else {
    out.weights = read_all<float>(weights);
    out.logits = read_all<float>(logits);
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(out.weights[i]) || !std::isfinite(out.logits[i])) {
        fail("{}: the weight or router logit of entry {} is not a number", what, i);
      }
    }
  }
  out.cache.assign(n, 0);
  if (!cache.empty()) std::memcpy(out.cache.data(), cache.data(), n);
  for (uint8_t c : out.cache) {
    if (c > 5) fail("{}: unknown cache outcome {}", what, c);
  }
}

void append_i64(std::vector<std::byte>& out, int64_t v) {
  append(out, v);
}
void append_f32(std::vector<std::byte>& out, float v) {
  append(out, v);
}
std::vector<int64_t> read_i64s(std::span<const std::byte> blob) {
  return read_all<int64_t>(blob);
}
std::vector<float> read_f32s(std::span<const std::byte> blob) {
  return read_all<float>(blob);
}

}  // namespace moescope::storage
