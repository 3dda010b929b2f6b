// Inter-layer affinity prefetcher (ExFlow, MoE-Infinity child counts).
#include <algorithm>

#include "engine/common/error.h"
#include "engine/policy/prefetch_util.h"
#include "engine/policy/prefetcher.h"

namespace moescope::policy {

namespace {

constexpr int64_t kMaxTableEntries = int64_t{1} << 26;

class Affinity : public Prefetcher {
 public:
  Affinity(int32_t k_prime, int32_t d, const RoutingTrace* fit) : k_(k_prime), d_(d), fit_(fit) {}

  std::string name() const override {
    return fmt::format("{}:{}:{}", fit_ ? "affinity-fit" : "affinity", k_, d_);
  }
  int32_t distance() const override { return d_; }

  void reset(const MoeShape& shape) override {
    shape_ = shape;
    const int32_t L = shape.n_layers();
    int64_t entries = 0;
    table_.assign(size_t(L), {});
    row_sum_.assign(size_t(L), {});
    freq_.assign(size_t(L), {});
    for (int32_t l = 0; l < L; ++l) {
      const int64_t rows = shape.n_experts[l], cols = shape.n_experts[(l + 1) % L];
      entries += rows * cols;
      if (entries > kMaxTableEntries)
        fail("the affinity tables would need more than {} entries", kMaxTableEntries);
      table_[l].assign(size_t(rows * cols), 0.0f);
      row_sum_[l].assign(size_t(rows), 0.0);
      freq_[l].assign(size_t(rows), 0.0);
    }
    last_.clear();
    have_last_ = false;
    if (fit_) {
      if (!(fit_->shape.n_experts == shape.n_experts))
        fail("the affinity prefetcher's trace has a different expert layout than the model");
      std::vector<ExpertId> prev;
      for (int64_t t = 0; t < fit_->n_tokens(); ++t)
        for (int32_t l = 0; l < L; ++l) {
          const auto now = fit_->experts(TokenPos(int32_t(t)), MoeLayerId(l));
          if (t > 0 || l > 0) learn(MoeLayerId((l + L - 1) % L), prev, now);
          count(MoeLayerId(l), now);
          prev.assign(now.begin(), now.end());
        }
    }
  }

  void observe(TokenPos t, MoeLayerId l, const TokenLayerRouting& r) override {
    if (!fit_) {
      if (have_last_)
        learn(MoeLayerId((l.value + shape_.n_layers() - 1) % shape_.n_layers()), last_, r.experts);
      count(l, r.experts);
    }
    last_.assign(r.experts.begin(), r.experts.end());
    last_pos_ = {t, l};
    have_last_ = true;
  }

  void predict(PrefetchTarget target, std::vector<ExpertId>& out) override {
    out.clear();
    const int32_t L = shape_.n_layers();
    const int32_t k = k_ > 0 ? k_ : shape_.top_k[target.layer.value];
    if (!have_last_) return;
    const int64_t steps = (int64_t(target.token.value) * L + target.layer.value) -
                          (int64_t(last_pos_.token.value) * L + last_pos_.layer.value);
    if (steps <= 0) return;
    // Probability mass over the source layer's experts, pushed through the row-normalised tables.
    int32_t layer = last_pos_.layer.value;
    mass_.assign(size_t(shape_.n_experts[layer]), 0.0);
    for (ExpertId e : last_) mass_[e.value] = 1.0;
    for (int64_t s = 0; s < steps; ++s) {
      const int32_t next = (layer + 1) % L, cols = shape_.n_experts[next];
      next_mass_.assign(size_t(cols), 0.0);
      for (int32_t i = 0; i < shape_.n_experts[layer]; ++i) {
        if (mass_[i] == 0 || row_sum_[layer][i] == 0) continue;
        const float* row = &table_[layer][size_t(i) * size_t(cols)];
        const double w = mass_[i] / row_sum_[layer][i];
        for (int32_t j = 0; j < cols; ++j) next_mass_[j] += w * row[j];
      }
      mass_.swap(next_mass_);
      layer = next;
    }
    top_scores<double>(mass_, k, out);
    if (out.empty()) top_scores<double>(freq_[target.layer.value], k, out);
  }

 private:
  void learn(MoeLayerId from, std::span<const ExpertId> a, std::span<const ExpertId> b) {
    const int32_t cols = shape_.n_experts[(from.value + 1) % shape_.n_layers()];
    for (ExpertId i : a) {
      for (ExpertId j : b)
        table_[from.value][size_t(i.value) * size_t(cols) + size_t(j.value)] += 1;
      row_sum_[from.value][i.value] += double(b.size());
    }
  }
  void count(MoeLayerId l, std::span<const ExpertId> r) {
    for (ExpertId e : r) freq_[l.value][e.value] += 1;
  }

  int32_t k_, d_;
  const RoutingTrace* fit_;
  MoeShape shape_;
  std::vector<std::vector<float>> table_;     // [n_layers][n_experts[l] * n_experts[l+1]]
  std::vector<std::vector<double>> row_sum_;  // [n_layers][n_experts[l]]
  std::vector<std::vector<double>> freq_;     // [n_layers][n_experts[l]]
  std::vector<ExpertId> last_;                // routing of the last observed position
  PrefetchTarget last_pos_{};
  bool have_last_ = false;
  std::vector<double> mass_, next_mass_;
};

}  // namespace

std::unique_ptr<Prefetcher> make_affinity(int32_t k_prime, int32_t distance,
                                          const RoutingTrace* fit) {
  if (distance < 1 || distance > 4096) fail("a prefetch distance must be 1..4096 layers");
  return std::make_unique<Affinity>(k_prime, distance, fit);
}

}  // namespace moescope::policy
