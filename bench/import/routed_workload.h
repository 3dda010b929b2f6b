#pragma once
// A synthetic SGLang routed-experts JSONL workload (one response per line, `meta_info.
// routed_experts` = base64 of little-endian int32 [tokens][layers][top_k], docs/import.md) with
// the structure real MoE routing has, written request by request so that a file of any length
// takes the memory of one request:
//   - skewed popularity: per layer a Zipf(s) law over a random order of the experts (every layer
//     has its own hot experts);
//   - requests of different lengths (a prompt of 64..1024 tokens, 32..512 generated), each with a
//     topic: per layer a set of 2k experts, drawn by popularity, that its tokens prefer (locality
//     in time, what a cache profits from);
//   - inter-layer affinity: every expert of layer l has a few favourite experts at layer l+1 that
//     the tokens which selected it tend to select next (ExFlow's observation, what affinity
//     placement profits from).
// Seeded: the same shape gives the same file. The shares are those of
// tools/make_routed_workload.py (45 % follow, 30 % topic, the rest by popularity), which is too
// slow in Python for millions of tokens.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace moescope::bench {

struct RoutedWorkloadShape {
  int64_t tokens = 0;  // routed tokens in the whole file (prompt + completion - 1 per request)
  int32_t layers = 32, experts = 128, top_k = 8;
  double zipf_s = 0.9;
  double follow_share = 0.45, topic_share = 0.30;
  int32_t follow_fanout = 4;  // favourite experts at the next layer per expert
  uint64_t seed = 7;
};

namespace routed_workload_detail {

// splitmix64: fast, and good enough for a workload.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  int32_t below(int32_t n) { return int32_t(next() % uint64_t(n)); }
};

inline std::string base64(const uint8_t* b, size_t n) {
  static const char* c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t v = uint32_t(b[i]) << 16 | (i + 1 < n ? uint32_t(b[i + 1]) << 8 : 0) |
                       (i + 2 < n ? uint32_t(b[i + 2]) : 0);
    out += c[(v >> 18) & 63];
    out += c[(v >> 12) & 63];
    out += i + 1 < n ? c[(v >> 6) & 63] : '=';
    out += i + 2 < n ? c[v & 63] : '=';
  }
  return out;
}

// The fixed structure of the model's routing: popularity per layer and the affinity graph.
struct RoutingModel {
  const RoutedWorkloadShape& s;
  std::vector<std::vector<double>> cdf;       // [layer][expert] cumulative popularity
  std::vector<std::vector<int32_t>> expert;   // [layer][rank] the expert of that popularity rank
  std::vector<std::vector<int32_t>> follows;  // [layer][expert * fanout] favourites at layer + 1

  RoutingModel(const RoutedWorkloadShape& shape, Rng& rng) : s(shape) {
    for (int32_t l = 0; l < s.layers; ++l) {
      std::vector<int32_t> order(size_t(s.experts));
      std::iota(order.begin(), order.end(), 0);
      for (int32_t i = s.experts - 1; i > 0; --i)
        std::swap(order[size_t(i)], order[size_t(rng.below(i + 1))]);
      std::vector<double> c(size_t(s.experts));
      double sum = 0;
      for (int32_t r = 0; r < s.experts; ++r)
        c[size_t(r)] = sum += 1.0 / std::pow(1.0 + r, s.zipf_s);
      for (double& x : c) x /= sum;
      cdf.push_back(std::move(c));
      expert.push_back(std::move(order));
    }
    for (int32_t l = 0; l < s.layers; ++l) {
      std::vector<int32_t> f(size_t(s.experts) * size_t(s.follow_fanout));
      for (int32_t& e : f) e = popular(l + 1 < s.layers ? l + 1 : l, rng);
      follows.push_back(std::move(f));
    }
  }
  int32_t popular(int32_t layer, Rng& rng) const {
    const auto& c = cdf[size_t(layer)];
    const auto r = std::upper_bound(c.begin(), c.end(), rng.uniform()) - c.begin();
    return expert[size_t(layer)][size_t(std::min<ptrdiff_t>(r, s.experts - 1))];
  }
};

// One request's routing, [tokens][layers][k], appended to ids.
inline void route_request(const RoutingModel& m, int64_t tokens, Rng& rng,
                          std::vector<int32_t>& ids) {
  const RoutedWorkloadShape& s = m.s;
  const int32_t k = s.top_k, topic_size = std::min(2 * k, s.experts);
  std::vector<int32_t> topic(size_t(s.layers) * size_t(topic_size));
  for (int32_t l = 0; l < s.layers; ++l)
    for (int32_t i = 0; i < topic_size; ++i)
      topic[size_t(l) * size_t(topic_size) + size_t(i)] = m.popular(l, rng);
  for (int64_t t = 0; t < tokens; ++t) {
    for (int32_t l = 0; l < s.layers; ++l) {
      const size_t row = ids.size();
      while (ids.size() - row < size_t(k)) {
        const double u = rng.uniform();
        int32_t e;
        if (l > 0 && u < s.follow_share) {
          const int32_t prev = ids[row - size_t(k) + size_t(rng.below(k))];
          e = m.follows[size_t(l - 1)][size_t(prev) * size_t(s.follow_fanout) +
                                       size_t(rng.below(s.follow_fanout))];
        } else if (u < s.follow_share + s.topic_share) {
          e = topic[size_t(l) * size_t(topic_size) + size_t(rng.below(topic_size))];
        } else {
          e = m.popular(l, rng);
        }
        if (std::find(ids.begin() + ptrdiff_t(row), ids.end(), e) == ids.end()) ids.push_back(e);
      }
    }
  }
}

}  // namespace routed_workload_detail

// Writes the workload to path, one request at a time; returns the number of requests.
inline int64_t write_routed_workload(const std::filesystem::path& path,
                                     const RoutedWorkloadShape& s) {
  using namespace routed_workload_detail;
  if (s.top_k > s.experts) throw std::runtime_error("top-k is more than the experts");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path.string());
  Rng rng{s.seed};
  const RoutingModel model(s, rng);
  std::vector<int32_t> ids;
  int64_t r = 0;
  for (int64_t done = 0; done < s.tokens; ++r) {
    int64_t prompt = 64 + rng.below(961), completion = 32 + rng.below(481);
    const int64_t n = std::min(prompt + completion - 1, s.tokens - done);
    prompt = std::min(prompt, n);
    completion = n - prompt + 1;  // SGLang routes prompt + completion - 1 tokens
    ids.clear();
    route_request(model, n, rng, ids);
    const std::string b64 =
        base64(reinterpret_cast<const uint8_t*>(ids.data()), ids.size() * sizeof(int32_t));
    std::fprintf(f,
                 "{\"text\":\"\",\"meta_info\":{\"id\":\"req-%lld\",\"prompt_tokens\":%lld,"
                 "\"completion_tokens\":%lld,\"routed_experts\":\"%s\"}}\n",
                 static_cast<long long>(r), static_cast<long long>(prompt),
                 static_cast<long long>(completion), b64.c_str());
    done += n;
  }
  if (std::fclose(f) != 0) throw std::runtime_error("cannot write " + path.string());
  return r;
}

}  // namespace moescope::bench
