// The simple prefetchers (none, same-as-previous-token, frequency prior, next-gate hook) and the
// factory.
#include <charconv>
#include <deque>

#include "engine/common/error.h"
#include "engine/policy/prefetch_util.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/registry.h"

namespace moescope::policy {

namespace {

int32_t k_or_top_k(int32_t k_prime, const MoeShape& shape, MoeLayerId l) {
  return k_prime > 0 ? k_prime : shape.top_k[l.value];
}

class NoPrefetch : public Prefetcher {
 public:
  std::string name() const override { return "none"; }
  int32_t distance() const override { return 1; }
  void reset(const MoeShape&) override {}
  void observe(TokenPos, MoeLayerId, const TokenLayerRouting&) override {}
  void predict(PrefetchTarget, std::vector<ExpertId>& out) override { out.clear(); }
};

class SameAsPrevious : public Prefetcher {
 public:
  explicit SameAsPrevious(int32_t d) : d_(d) {}
  std::string name() const override { return fmt::format("same-prev:{}", d_); }
  int32_t distance() const override { return d_; }
  void reset(const MoeShape& shape) override { last_.assign(size_t(shape.n_layers()), {}); }
  void observe(TokenPos, MoeLayerId l, const TokenLayerRouting& r) override {
    last_[l.value].assign(r.experts.begin(), r.experts.end());
  }
  // The target layer last ran for the previous token (d <= n_layers).
  void predict(PrefetchTarget target, std::vector<ExpertId>& out) override {
    out = last_[target.layer.value];
  }

 private:
  int32_t d_;
  std::vector<std::vector<ExpertId>> last_;  // [n_layers] latest routing of each layer
};

class Frequency : public Prefetcher {
 public:
  Frequency(int32_t k_prime, int32_t window, int32_t d) : k_(k_prime), window_(window), d_(d) {}
  std::string name() const override { return fmt::format("freq:{}:{}:{}", k_, window_, d_); }
  int32_t distance() const override { return d_; }
  void reset(const MoeShape& shape) override {
    shape_ = shape;
    count_.assign(size_t(shape.n_layers()), {});
    recent_.assign(size_t(shape.n_layers()), {});
    for (int32_t l = 0; l < shape.n_layers(); ++l) count_[l].assign(size_t(shape.n_experts[l]), 0);
  }
  void observe(TokenPos, MoeLayerId l, const TokenLayerRouting& r) override {
    auto& ring = recent_[l.value];
    auto& count = count_[l.value];
    ring.emplace_back(r.experts.begin(), r.experts.end());
    for (ExpertId e : ring.back()) ++count[e.value];
    if (int32_t(ring.size()) > window_) {
      for (ExpertId e : ring.front()) --count[e.value];
      ring.pop_front();
    }
  }
  void predict(PrefetchTarget target, std::vector<ExpertId>& out) override {
    top_scores<int32_t>(count_[target.layer.value], k_or_top_k(k_, shape_, target.layer), out);
  }

 private:
  int32_t k_, window_, d_;
  MoeShape shape_;
  std::vector<std::vector<int32_t>> count_;                // [n_layers][n_experts]
  std::vector<std::deque<std::vector<ExpertId>>> recent_;  // [n_layers][<= window tokens]
};

std::vector<int32_t> parse_ints(std::string_view spec, std::vector<std::string_view> parts,
                                std::vector<int32_t> defaults) {
  if (parts.size() > defaults.size())
    fail("prefetcher '{}' takes at most {} parameter(s)", spec, defaults.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    int32_t v = 0;
    auto [ptr, ec] = std::from_chars(parts[i].data(), parts[i].data() + parts[i].size(), v);
    if (parts[i].empty() || ec != std::errc() || ptr != parts[i].data() + parts[i].size() || v < 0)
      fail("prefetcher '{}': '{}' is not a non-negative whole number", spec, parts[i]);
    defaults[i] = v;
  }
  return defaults;
}

int32_t check_distance(int32_t d) {
  if (d < 1 || d > 4096) fail("a prefetch distance must be 1..4096 layers, not {}", d);
  return d;
}

}  // namespace

PrefetchTarget advance(TokenPos t, MoeLayerId l, int32_t d, int32_t n_layers) {
  const int64_t pos = int64_t(t.value) * n_layers + l.value + d;
  return {TokenPos(int32_t(pos / n_layers)), MoeLayerId(int32_t(pos % n_layers))};
}

NextGatePrefetcher::NextGatePrefetcher(int32_t distance, int32_t k_prime)
    : probe_{check_distance(distance), k_prime} {}

std::string NextGatePrefetcher::name() const {
  return fmt::format("next-gate:{}:{}", probe_.distance, probe_.k_prime);
}

void NextGatePrefetcher::reset(const MoeShape& shape) {
  shape_ = shape;
  supplied_.clear();
}

void NextGatePrefetcher::supply_probe(PrefetchTarget target, std::span<const ExpertId> experts) {
  supplied_[target].assign(experts.begin(), experts.end());
}

void NextGatePrefetcher::predict(PrefetchTarget target, std::vector<ExpertId>& out) {
  out.clear();
  const int32_t k = k_or_top_k(probe_.k_prime, shape_, target.layer);
  if (auto it = supplied_.find(target); it != supplied_.end()) {
    out = std::move(it->second);
    // Older targets can no longer be asked for.
    supplied_.erase(supplied_.begin(), std::next(it));
  } else if (source_) {
    source_(target, k, out);
  }
  if (int32_t(out.size()) > k) out.resize(size_t(k));
}

std::unique_ptr<Prefetcher> make_no_prefetch() {
  return std::make_unique<NoPrefetch>();
}

std::unique_ptr<Prefetcher> make_same_as_previous(int32_t distance) {
  return std::make_unique<SameAsPrevious>(check_distance(distance));
}

std::unique_ptr<Prefetcher> make_frequency(int32_t k_prime, int32_t window, int32_t distance) {
  if (window < 1 || window > (1 << 20)) fail("the frequency window must be 1..1048576 tokens");
  return std::make_unique<Frequency>(k_prime, window, check_distance(distance));
}

std::unique_ptr<Prefetcher> make_prefetcher(std::string_view spec, const PrefetcherInputs& in) {
  constexpr std::string_view kGated = "+cost";
  if (spec.ends_with(kGated)) {
    std::unique_ptr<Prefetcher> p =
        make_prefetcher(spec.substr(0, spec.size() - kGated.size()), in);
    p->set_cost_gated(true);
    return p;
  }
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t colon = spec.find(':', start);
    parts.push_back(spec.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  const std::string_view name = parts[0];
  parts.erase(parts.begin());
  if (name == "none") {
    parse_ints(spec, parts, {});
    return make_no_prefetch();
  }
  if (name == "same-prev") return make_same_as_previous(parse_ints(spec, parts, {1})[0]);
  if (name == "affinity" || name == "affinity-fit") {
    const auto p = parse_ints(spec, parts, {0, 1});
    if (name == "affinity-fit" && !in.fit)
      fail("prefetcher '{}' needs a recorded trace to fit on", spec);
    return make_affinity(p[0], p[1], name == "affinity-fit" ? in.fit : nullptr);
  }
  if (name == "freq") {
    const auto p = parse_ints(spec, parts, {0, 64, 1});
    return make_frequency(p[0], p[1], p[2]);
  }
  if (name == "path") {
    const auto p = parse_ints(spec, parts, {0, 1});
    if (!in.fit) fail("prefetcher '{}' needs a recorded trace to fit on", spec);
    return make_path_predictor(p[0], p[1], *in.fit);
  }
  if (name == "next-gate") {
    const auto p = parse_ints(spec, parts, {1, 0});
    return std::make_unique<NextGatePrefetcher>(p[0], p[1]);
  }
  fail("unknown prefetcher '{}' ({})", spec, registry_names(EntryKind::kPrefetcher));
}

PredictionInputs prediction_inputs(std::string_view spec) {
  // Built on an empty trace: nothing is fitted until reset, so this costs nothing.
  static const RoutingTrace kNoFit;
  return make_prefetcher(spec, {&kNoFit})->inputs();
}

}  // namespace moescope::policy
