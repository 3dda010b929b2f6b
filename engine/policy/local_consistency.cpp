#include "engine/policy/local_consistency.h"

#include <algorithm>

#include "engine/common/error.h"

namespace moescope::policy {

namespace {

std::vector<int64_t> selected_tokens(const RoutingTrace& trace, PhaseFilter filter) {
  std::vector<int64_t> tokens;
  for (int64_t t = 0; t < trace.n_tokens(); ++t)
    if (phase_selected(filter, trace.phase[size_t(t)])) tokens.push_back(t);
  return tokens;
}

// hist[c]: (segment, expert) pairs of layer l whose expert routes c of the segment's m tokens,
// c = 0..m, over the T - m + 1 segments of `tokens`. Each count keeps the segment index from
// which it holds, so a slide costs O(k) instead of O(n_experts).
std::vector<int64_t> count_histogram(const RoutingTrace& trace, const std::vector<int64_t>& tokens,
                                     MoeLayerId l, int32_t m) {
  const size_t n = size_t(trace.shape.n_experts[size_t(l.value)]);
  const int64_t segments = int64_t(tokens.size()) - m + 1;
  std::vector<int64_t> hist(size_t(m) + 1, 0);
  std::vector<int32_t> count(n, 0);
  std::vector<int64_t> since(n, 0);  // first segment the current count holds for
  auto change = [&](int64_t i, ExpertId e, int32_t delta) {
    // Token i enters (or token i - m leaves) from segment i - m + 1 on.
    const int64_t from = std::max<int64_t>(0, i - m + 1);
    hist[size_t(count[e.value])] += from - since[e.value];
    since[e.value] = from;
    count[e.value] += delta;
  };
  for (int64_t i = 0; i < int64_t(tokens.size()); ++i) {
    // The leaving token first: both changes hold from the same segment on, and this order keeps
    // every count within 0..m (an expert of all m + 1 tokens would otherwise reach m + 1).
    if (i >= m)
      for (ExpertId e : trace.experts(TokenPos(int32_t(tokens[size_t(i - m)])), l))
        change(i, e, -1);
    for (ExpertId e : trace.experts(TokenPos(int32_t(tokens[size_t(i)])), l)) change(i, e, +1);
  }
  for (size_t e = 0; e < n; ++e) hist[size_t(count[e])] += segments - since[e];
  return hist;
}

// Experts ordered by count, highest first, kept sorted under +1/-1 changes in O(1) (each count's
// experts form one block; a change swaps the expert to its block's edge), with the sum of the k
// highest counts.
class TopCounts {
 public:
  TopCounts(int32_t n, int32_t k, int32_t max_count)
      : order_(size_t(n)),
        at_(size_t(n)),
        count_(size_t(n), 0),
        at_least_(size_t(max_count) + 2, 0),
        k_(size_t(std::min(n, k))) {
    for (int32_t e = 0; e < n; ++e) order_[size_t(e)] = at_[size_t(e)] = e;
    at_least_[0] = n;
  }

  void increment(int32_t e) {
    const int32_t c = count_[size_t(e)]++;
    // e swaps with the first expert of count c; the block of counts > c grows over it.
    const size_t p = size_t(at_least_[size_t(c) + 1]++);
    swap_into(e, p);
    if (p < k_) ++top_sum_;
  }
  void decrement(int32_t e) {
    const int32_t c = count_[size_t(e)]--;
    // e swaps with the last expert of count c; the block of counts >= c shrinks past it.
    const size_t p = size_t(--at_least_[size_t(c)]);
    swap_into(e, p);
    if (p < k_) --top_sum_;
  }
  int64_t top_sum() const { return top_sum_; }

 private:
  // e to position p, whose expert (of e's old count) takes e's place: the order stays sorted.
  void swap_into(int32_t e, size_t p) {
    const int32_t other = order_[p];
    const size_t from = size_t(at_[size_t(e)]);
    order_[p] = e;
    order_[from] = other;
    at_[size_t(e)] = int32_t(p);
    at_[size_t(other)] = int32_t(from);
  }

  std::vector<int32_t> order_;     // experts by count, highest first
  std::vector<int32_t> at_;        // [n] position of each expert in order_
  std::vector<int32_t> count_;     // [n]
  std::vector<int32_t> at_least_;  // [c] experts with count >= c (they fill order_[0, that))
  size_t k_;
  int64_t top_sum_ = 0;
};

struct BestF1 {
  double f1 = 0;
  int32_t threshold = 0;
};

// max_j 2 M(j) / max(1, P(j) + A) from the histogram (first j on ties).
BestF1 best_f1(const std::vector<int64_t>& hist, int32_t m) {
  int64_t matches = 0, predicted_sets = 0;  // suffix sums over c >= j
  std::vector<int64_t> suffix_matches(hist.size()), suffix_sets(hist.size());
  for (size_t c = hist.size(); c-- > 0;) {
    matches += int64_t(c) * hist[c];
    predicted_sets += hist[c];
    suffix_matches[c] = matches;
    suffix_sets[c] = predicted_sets;
  }
  const int64_t activations = suffix_matches[0];
  BestF1 best{-1, 0};
  for (size_t j = 0; j < hist.size(); ++j) {
    const int64_t denominator = std::max<int64_t>(1, int64_t(m) * suffix_sets[j] + activations);
    const double f1 = double(2 * suffix_matches[j]) / double(denominator);
    if (f1 > best.f1) best = {f1, int32_t(j)};
  }
  return best;
}

}  // namespace

SrpScore segment_routing_performance(const RoutingTrace& trace, int32_t m, PhaseFilter filter) {
  if (m < 1) fail("SRP needs a segment of at least one token, not {}", m);
  const std::vector<int64_t> tokens = selected_tokens(trace, filter);
  SrpScore out;
  out.m = m;
  std::vector<int64_t> pooled(size_t(m) + 1, 0);
  const bool fits = int64_t(tokens.size()) >= m;
  for (int32_t l = 0; l < trace.n_layers(); ++l) {
    if (!fits) {
      out.per_layer.push_back(SrpScore::kNaN);
      out.per_layer_threshold.push_back(-1);
      continue;
    }
    const std::vector<int64_t> hist = count_histogram(trace, tokens, MoeLayerId(l), m);
    const BestF1 b = best_f1(hist, m);
    out.per_layer.push_back(b.f1);
    out.per_layer_threshold.push_back(b.threshold);
    for (size_t c = 0; c < hist.size(); ++c) pooled[c] += hist[c];
  }
  if (fits && trace.n_layers() > 0) {
    const BestF1 b = best_f1(pooled, m);
    out.model = b.f1;
    out.model_threshold = b.threshold;
  }
  return out;
}

double srp_floor(const MoeShape& shape) {
  double k = 0, n = 0;
  for (int32_t l = 0; l < shape.n_layers(); ++l) {
    k += shape.top_k[size_t(l)];
    n += shape.n_experts[size_t(l)];
  }
  return n + k > 0 ? 2 * k / (n + k) : SrpScore::kNaN;
}

WindowCoverage best_k_window_coverage(const RoutingTrace& trace, int32_t m, PhaseFilter filter) {
  if (m < 1) fail("window coverage needs a window of at least one token, not {}", m);
  const std::vector<int64_t> tokens = selected_tokens(trace, filter);
  WindowCoverage out;
  out.m = m;
  double total = 0;
  int layers = 0;
  for (int32_t l = 0; l < trace.n_layers(); ++l) {
    if (int64_t(tokens.size()) < m) {
      out.per_layer.push_back(SrpScore::kNaN);
      continue;
    }
    // The best k experts' share of each segment, from counts kept sorted as the segment slides
    // (the entering token is added before the leaving one leaves: counts reach m + 1).
    TopCounts counts(trace.shape.n_experts[size_t(l)], trace.shape.top_k[size_t(l)], m + 1);
    int64_t activations = 0;
    auto slide = [&](int64_t t, int32_t delta) {
      for (ExpertId e : trace.experts(TokenPos(int32_t(t)), MoeLayerId(l))) {
        if (delta > 0) {
          counts.increment(e.value);
        } else {
          counts.decrement(e.value);
        }
        activations += delta;
      }
    };
    double sum = 0;
    int64_t windows = 0;
    for (size_t i = 0; i < tokens.size(); ++i) {
      slide(tokens[i], +1);
      if (i >= size_t(m)) slide(tokens[i - size_t(m)], -1);
      if (i + 1 < size_t(m)) continue;
      const int64_t covered = counts.top_sum();
      sum += activations > 0 ? double(covered) / double(activations) : 1.0;
      ++windows;
    }
    out.per_layer.push_back(sum / double(windows));
    total += out.per_layer.back();
    ++layers;
  }
  if (layers) out.mean_of_layers = total / layers;
  return out;
}

SchScore segment_cache_hit_rate(const RoutingTrace& trace, int32_t m,
                                const std::vector<int32_t>& slots, PhaseFilter filter) {
  return segment_cache_hit_rates(trace, m, {slots}, filter).front();
}

SchScore segment_cache_hit_rate(const RoutingTrace& trace, int32_t m, int32_t slots_per_layer,
                                PhaseFilter filter) {
  return segment_cache_hit_rate(
      trace, m, std::vector<int32_t>(size_t(trace.n_layers()), slots_per_layer), filter);
}

}  // namespace moescope::policy
