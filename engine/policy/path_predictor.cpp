// Routing-path predictor fitted on recorded traces (in the spirit of ExpertFlow / ProMoE): the
// experts of position p (a token's layer; positions run layer by layer, token by token) are
// predicted from the top-1 experts at p-d-1 and p-d (the path so far), backing off to the
// first-order table "any selected expert at p-d" and then to the layer's frequency.
#include <algorithm>
#include <unordered_map>

#include "engine/common/error.h"
#include "engine/policy/prefetch_util.h"
#include "engine/policy/prefetcher.h"

namespace moescope::policy {

namespace {

constexpr int64_t kMaxTableEntries = int64_t{1} << 26;
constexpr int32_t kMinSupport = 3;  // observations before a path context is trusted

class PathPredictor : public Prefetcher {
 public:
  PathPredictor(int32_t k_prime, int32_t d, const RoutingTrace& fit)
      : k_(k_prime), d_(d), fit_(&fit) {}

  std::string name() const override { return fmt::format("path:{}:{}", k_, d_); }
  int32_t distance() const override { return d_; }

  void reset(const MoeShape& shape) override {
    if (!(fit_->shape.n_experts == shape.n_experts))
      fail("the path predictor's trace has a different expert layout than the model");
    shape_ = shape;
    const int32_t L = shape.n_layers();
    int64_t entries = 0;
    first_.assign(size_t(L), {});
    freq_.assign(size_t(L), {});
    for (int32_t l = 0; l < L; ++l) {
      const int32_t src = source_layer(l);
      entries += int64_t(shape.n_experts[src]) * shape.n_experts[l];
      if (entries > kMaxTableEntries)
        fail("the path predictor's tables would need more than {} entries", kMaxTableEntries);
      first_[l].assign(size_t(shape.n_experts[src]) * size_t(shape.n_experts[l]), 0.0f);
      freq_[l].assign(size_t(shape.n_experts[l]), 0.0);
    }
    second_.clear();
    fit();
    history_.clear();
  }

  void observe(TokenPos, MoeLayerId, const TokenLayerRouting& r) override {
    history_.emplace_back(r.experts.begin(), r.experts.end());
    if (history_.size() > 2) history_.erase(history_.begin());
  }

  void predict(PrefetchTarget target, std::vector<ExpertId>& out) override {
    const int32_t l = target.layer.value, n = shape_.n_experts[l];
    score_.assign(size_t(n), 0.0);
    for (int32_t j = 0; j < n; ++j) score_[j] = freq_[l][j] / std::max(1.0, freq_total(l));
    if (!history_.empty()) {
      const std::vector<ExpertId>& src = history_.back();
      for (ExpertId i : src)
        for (int32_t j = 0; j < n; ++j)
          score_[j] += 1e3 * first_[l][size_t(i.value) * size_t(n) + size_t(j)] /
                       std::max(1.0, freq_total(l) * double(src.size()));
      if (history_.size() == 2 && !history_[0].empty() && !src.empty()) {
        auto it = second_.find(context(l, history_[0][0].value, src[0].value));
        if (it != second_.end() && it->second.total >= kMinSupport)
          for (auto [e, c] : it->second.counts) score_[e] += 1e6 * c / it->second.total;
      }
    }
    top_scores<double>(score_, k_ > 0 ? k_ : shape_.top_k[l], out);
  }

 private:
  struct Counts {
    std::vector<std::pair<int32_t, double>> counts;  // sparse: expert, count
    double total = 0;
  };

  int32_t source_layer(int32_t l) const {
    const int32_t L = shape_.n_layers();
    return ((l - d_) % L + L) % L;
  }
  double freq_total(int32_t l) const { return freq_sum_.empty() ? 0 : freq_sum_[l]; }
  static uint64_t context(int32_t layer, int32_t a, int32_t b) {
    return (uint64_t(uint32_t(layer)) << 40) ^ (uint64_t(uint32_t(a)) << 20) ^
           uint64_t(uint32_t(b));
  }

  void fit() {
    const int32_t L = shape_.n_layers();
    freq_sum_.assign(size_t(L), 0.0);
    const int64_t n_pos = fit_->n_tokens() * L;
    auto at = [&](int64_t p) {
      return fit_->experts(TokenPos(int32_t(p / L)), MoeLayerId(int32_t(p % L)));
    };
    for (int64_t p = 0; p < n_pos; ++p) {
      const int32_t l = int32_t(p % L), n = shape_.n_experts[l];
      const auto now = at(p);
      for (ExpertId j : now) freq_[l][j.value] += 1;
      freq_sum_[l] += double(now.size());
      if (p - d_ < 0) continue;
      const auto src = at(p - d_);
      for (ExpertId i : src)
        for (ExpertId j : now) first_[l][size_t(i.value) * size_t(n) + size_t(j.value)] += 1;
      if (p - d_ - 1 < 0) continue;
      const auto before = at(p - d_ - 1);
      if (before.empty() || src.empty()) continue;
      Counts& c = second_[context(l, before[0].value, src[0].value)];
      for (ExpertId j : now) {
        auto it = std::find_if(c.counts.begin(), c.counts.end(),
                               [&](const auto& x) { return x.first == j.value; });
        if (it == c.counts.end())
          c.counts.push_back({j.value, 1.0});
        else
          it->second += 1;
      }
      c.total += 1;
    }
  }

  int32_t k_, d_;
  const RoutingTrace* fit_;
  MoeShape shape_;
  std::vector<std::vector<float>> first_;  // [target layer][n_experts[src] * n_experts[l]]
  std::vector<std::vector<double>> freq_;  // [n_layers][n_experts]
  std::vector<double> freq_sum_;           // [n_layers]
  std::unordered_map<uint64_t, Counts> second_;
  std::vector<std::vector<ExpertId>> history_;  // the last two observed positions
  std::vector<double> score_;
};

}  // namespace

std::unique_ptr<Prefetcher> make_path_predictor(int32_t k_prime, int32_t distance,
                                                const RoutingTrace& fit) {
  if (distance < 1 || distance > 4096) fail("a prefetch distance must be 1..4096 layers");
  return std::make_unique<PathPredictor>(k_prime, distance, fit);
}

}  // namespace moescope::policy
