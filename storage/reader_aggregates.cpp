// The reader's per-layer and per-expert aggregates: from the tables the writer fills when a run
// completes, or, for an interrupted run, from one pass over its rows (kept until the run grows).
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "engine/common/error.h"
#include "storage/read_checks.h"
#include "storage/routing_blob.h"
#include "storage/row_keys.h"
#include "storage/sqlite_db.h"
#include "storage/trace_reader.h"

namespace moescope::storage {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool selected(int32_t mask, int phase) {
  return (mask >> phase) & 1;
}

}  // namespace

struct TraceReader::RowAggregates {
  policy::MoeShape shape;
  std::array<std::vector<int64_t>, 2> activations, top1, hits, misses;  // [phase][key]
  std::array<std::vector<double>, 2> weight_sum;                        // [phase][key]
  std::array<std::vector<std::vector<int64_t>>, 2> affinity;  // [phase][l][e * n(l+1) + e']
  std::array<int64_t, 2> tokens{};
  std::array<std::vector<int64_t>, 2> compute, stall;  // [phase][l]
};

bool TraceReader::has_aggregates(int64_t run) {
  Statement st(*db_, "SELECT status = 'complete' FROM runs WHERE id = ?");
  st.bind(1, run);
  return st.step() && st.int64(0) != 0;
}

const TraceReader::RowAggregates& TraceReader::row_aggregates(int64_t run) {
  // A run that is still being recorded grows: recompute when it has.
  Statement last(*db_, "SELECT coalesce(max(pos), -1) FROM tokens WHERE run = ?");
  last.bind(1, run);
  const int64_t stamp = last.step() ? last.int64(0) : -1;
  auto it = row_cache_.find(run);
  if (it != row_cache_.end() && it->second.first == stamp) return *it->second.second;

  auto agg = std::make_shared<RowAggregates>();
  RowAggregates& a = *agg;
  a.shape = shape(run);
  const policy::MoeShape& s = a.shape;
  const int32_t L = s.n_layers();
  const auto keys = size_t(s.total_experts());
  for (int p = 0; p < 2; ++p) {
    a.activations[p].assign(keys, 0);
    a.top1[p].assign(keys, 0);
    a.hits[p].assign(keys, 0);
    a.misses[p].assign(keys, 0);
    a.weight_sum[p].assign(keys, 0.0);
    a.compute[p].assign(size_t(L), 0);
    a.stall[p].assign(size_t(L), 0);
    a.affinity[p].resize(size_t(std::max(0, L - 1)));
    for (int32_t l = 0; l + 1 < L; ++l) {
      a.affinity[p][size_t(l)].assign(size_t(s.n_experts[size_t(l)]) * s.n_experts[size_t(l) + 1],
                                      0);
    }
  }

  std::vector<int8_t> phase_of;  // [pos] -1 when not forwarded
  {
    Statement st(*db_, "SELECT pos, phase FROM tokens WHERE run = ? AND forwarded = 1");
    st.bind(1, run);
    while (st.step()) {
      const int64_t pos = st.int64(0), ph = st.int64(1);
      if (pos < 0 || pos >= kMaxPositions || (ph != 0 && ph != 1)) {
        fail("trace {} is damaged: token {} of run {} is out of range", path_.string(), pos, run);
      }
      if (phase_of.size() <= size_t(pos)) phase_of.resize(size_t(pos) + 1, -1);
      phase_of[size_t(pos)] = int8_t(ph);
      ++a.tokens[size_t(ph)];
    }
  }
  auto phase_at = [&](int64_t pos) {
    return size_t(pos) < phase_of.size() ? phase_of[size_t(pos)] : -1;
  };

  // One pass over the routing rows, in position order.
  for_each_routing(run, s, {}, [&](int32_t pos, const DecodedRouting& d) {
    const int ph = phase_at(pos);
    if (ph < 0) return;
    for (int32_t l = 0; l < L; ++l) {
      for (int64_t i = d.offset[size_t(l)]; i < d.offset[size_t(l) + 1]; ++i) {
        const auto at = size_t(i);
        const size_t key = size_t(s.key_index({MoeLayerId(l), d.experts[at]}));
        ++a.activations[size_t(ph)][key];
        if (i == d.offset[size_t(l)]) ++a.top1[size_t(ph)][key];
        if (!std::isnan(d.weights[at])) a.weight_sum[size_t(ph)][key] += double(d.weights[at]);
        const auto outcome = AccessOutcome(d.cache[at]);
        if (is_hit(outcome)) ++a.hits[size_t(ph)][key];
        if (is_miss(outcome)) ++a.misses[size_t(ph)][key];
      }
      if (l + 1 < L) {
        const int32_t nb = s.n_experts[size_t(l) + 1];
        auto& m = a.affinity[size_t(ph)][size_t(l)];
        for (int64_t i = d.offset[size_t(l)]; i < d.offset[size_t(l) + 1]; ++i)
          for (int64_t j = d.offset[size_t(l) + 1]; j < d.offset[size_t(l) + 2]; ++j)
            ++m[size_t(d.experts[size_t(i)].value) * nb + size_t(d.experts[size_t(j)].value)];
      }
    }
  });
  {
    Statement st(*db_,
                 "SELECT pos, compute_ns, stall_ns FROM layer_timings WHERE id >= ? AND id < ?");
    st.bind(1, token_key(run, 0)).bind(2, token_key(run + 1, 0));
    while (st.step()) {
      const int ph = phase_at(st.int64(0));
      const std::vector<int64_t> compute = read_i64s(st.blob(1)), stall = read_i64s(st.blob(2));
      if (ph < 0 || compute.size() != size_t(L) || stall.size() != size_t(L)) continue;
      for (int32_t l = 0; l < L; ++l) {
        a.compute[size_t(ph)][size_t(l)] += compute[size_t(l)];
        a.stall[size_t(ph)][size_t(l)] += stall[size_t(l)];
      }
    }
  }
  row_cache_[run] = {stamp, agg};
  return a;
}

ExpertMatrices TraceReader::expert_matrices(int64_t run, policy::PhaseFilter phase,
                                            bool from_rows) {
  const policy::MoeShape s = shape(run);
  const int32_t L = s.n_layers();
  const int32_t E = *std::max_element(s.n_experts.begin(), s.n_experts.end());
  ExpertMatrices m;
  m.activations = m.top1 = m.hits = m.misses = Matrix<int64_t>(L, E);
  Matrix<double> weight_sum(L, E);
  const int32_t mask = phase_mask(phase);
  if (!from_rows && has_aggregates(run)) {
    Statement st(*db_,
                 "SELECT layer, expert, sum(activations), sum(top1), total(weight_sum), "
                 "sum(hits), sum(misses) FROM expert_stats WHERE run = ? AND "
                 "((1 << phase) & ?) != 0 GROUP BY layer, expert");
    st.bind(1, run).bind(2, mask);
    while (st.step()) {
      const int64_t l64 = st.int64(0), e64 = st.int64(1);
      const std::string row = fmt::format("run {}, layer {}, expert {}", run, l64, e64);
      if (l64 < 0 || l64 >= L || e64 < 0 || e64 >= s.n_experts[size_t(l64)]) {
        fail_damaged(path_, "expert_stats", row, "no such MoE layer or expert");
      }
      const auto l = int32_t(l64), e = int32_t(e64);
      m.activations.at(l, e) = st.int64(2);
      m.top1.at(l, e) = st.int64(3);
      weight_sum.at(l, e) = st.real(4);
      m.hits.at(l, e) = st.int64(5);
      m.misses.at(l, e) = st.int64(6);
      for (int col : {2, 3, 5, 6}) {
        check_not_negative(path_, "expert_stats", row, "a count", st.int64(col));
      }
      if (!std::isfinite(weight_sum.at(l, e)) || weight_sum.at(l, e) < 0) {
        fail_damaged(path_, "expert_stats", row, "weight_sum is not a non-negative number");
      }
    }
  } else {
    const RowAggregates& a = row_aggregates(run);
    for (int ph = 0; ph < 2; ++ph) {
      if (!selected(mask, ph)) continue;
      for (int64_t key = 0; key < s.total_experts(); ++key) {
        const ExpertKey k = s.key_at(key);
        const int32_t l = k.layer.value, e = k.expert.value;
        m.activations.at(l, e) += a.activations[size_t(ph)][size_t(key)];
        m.top1.at(l, e) += a.top1[size_t(ph)][size_t(key)];
        weight_sum.at(l, e) += a.weight_sum[size_t(ph)][size_t(key)];
        m.hits.at(l, e) += a.hits[size_t(ph)][size_t(key)];
        m.misses.at(l, e) += a.misses[size_t(ph)][size_t(key)];
      }
    }
  }
  m.hit_rate = m.mean_weight = Matrix<double>(L, E, kNaN);
  for (int32_t l = 0; l < L; ++l) {
    for (int32_t e = 0; e < s.n_experts[size_t(l)]; ++e) {
      const int64_t acc = m.hits.at(l, e) + m.misses.at(l, e);
      if (acc > 0) m.hit_rate.at(l, e) = double(m.hits.at(l, e)) / double(acc);
      if (m.activations.at(l, e) > 0) {
        m.mean_weight.at(l, e) = weight_sum.at(l, e) / double(m.activations.at(l, e));
      }
    }
  }
  return m;
}

std::vector<LayerAggregate> TraceReader::layer_aggregates(int64_t run, policy::PhaseFilter phase,
                                                          bool from_rows) {
  const policy::MoeShape s = shape(run);
  const ExpertMatrices m = expert_matrices(run, phase, from_rows);
  std::vector<LayerAggregate> out(size_t(s.n_layers()));
  for (int32_t l = 0; l < s.n_layers(); ++l) {
    LayerAggregate& a = out[size_t(l)];
    a.layer = MoeLayerId(l);
    a.model_layer = s.model_layer[size_t(l)];
    a.n_experts = s.n_experts[size_t(l)];
    std::vector<int64_t> load(size_t(a.n_experts));
    double sum = 0, sum_sq = 0;
    for (int32_t e = 0; e < a.n_experts; ++e) {
      load[size_t(e)] = m.activations.at(l, e);
      a.activations += load[size_t(e)];
      a.hits += m.hits.at(l, e);
      a.misses += m.misses.at(l, e);
      sum += double(load[size_t(e)]);
      sum_sq += double(load[size_t(e)]) * double(load[size_t(e)]);
    }
    // Definitions: shared docs/policies.md, "routing health".
    a.jain_fairness = sum_sq > 0 ? sum * sum / (double(a.n_experts) * sum_sq) : 0;
    for (int64_t x : load) {
      if (x > 0) a.load_entropy_bits -= (double(x) / sum) * std::log2(double(x) / sum);
    }
    std::sort(load.begin(), load.end(), std::greater<>());
    int64_t covered = 0;
    while (a.activations > 0 && covered * 5 < a.activations * 4) {
      covered += load[size_t(a.hot_set_80++)];
    }
  }
  const int32_t mask = phase_mask(phase);
  if (!from_rows && has_aggregates(run)) {
    Statement st(*db_,
                 "SELECT layer, sum(tokens), sum(compute_ns), sum(stall_ns) FROM layer_stats "
                 "WHERE run = ? AND ((1 << phase) & ?) != 0 GROUP BY layer");
    st.bind(1, run).bind(2, mask);
    while (st.step()) {
      const int64_t l = st.int64(0);
      const std::string row = fmt::format("run {}, layer {}", run, l);
      if (l < 0 || l >= s.n_layers()) fail_damaged(path_, "layer_stats", row, "no such MoE layer");
      for (int col : {1, 2, 3}) {
        check_not_negative(path_, "layer_stats", row, "a count or time", st.int64(col));
      }
      out[size_t(l)].tokens = st.int64(1);
      out[size_t(l)].compute_ns = st.int64(2);
      out[size_t(l)].stall_ns = st.int64(3);
    }
  } else {
    const RowAggregates& a = row_aggregates(run);
    for (int ph = 0; ph < 2; ++ph) {
      if (!selected(mask, ph)) continue;
      for (int32_t l = 0; l < s.n_layers(); ++l) {
        out[size_t(l)].tokens += a.tokens[size_t(ph)];
        out[size_t(l)].compute_ns += a.compute[size_t(ph)][size_t(l)];
        out[size_t(l)].stall_ns += a.stall[size_t(ph)][size_t(l)];
      }
    }
  }
  return out;
}

AffinityMatrix TraceReader::affinity(int64_t run, MoeLayerId layer, policy::PhaseFilter phase,
                                     bool from_rows) {
  const policy::MoeShape s = shape(run);
  if (layer.value < 0 || layer.value + 1 >= s.n_layers()) {
    fail("affinity needs a MoE layer from 0 to {} (it links a layer to the next), got {}",
         s.n_layers() - 2, layer.value);
  }
  const int32_t na = s.n_experts[size_t(layer.value)], nb = s.n_experts[size_t(layer.value) + 1];
  AffinityMatrix a;
  a.layer = layer;
  a.counts = Matrix<int64_t>(na, nb);
  const int32_t mask = phase_mask(phase);
  if (!from_rows && has_aggregates(run)) {
    Statement st(*db_,
                 "SELECT expert, next_expert, sum(count) FROM affinity WHERE run = ? AND "
                 "((1 << phase) & ?) != 0 AND layer = ? GROUP BY expert, next_expert");
    st.bind(1, run).bind(2, mask).bind(3, layer.value);
    while (st.step()) {
      const int64_t i = st.int64(0), j = st.int64(1);
      const std::string row =
          fmt::format("run {}, layer {}, expert {}, next_expert {}", run, layer.value, i, j);
      if (i < 0 || i >= na || j < 0 || j >= nb) {
        fail_damaged(path_, "affinity", row, "no such expert");
      }
      check_not_negative(path_, "affinity", row, "count", st.int64(2));
      a.counts.at(int32_t(i), int32_t(j)) = st.int64(2);
    }
  } else {
    const RowAggregates& r = row_aggregates(run);
    for (int ph = 0; ph < 2; ++ph) {
      if (!selected(mask, ph)) continue;
      const auto& m = r.affinity[size_t(ph)][size_t(layer.value)];
      for (size_t i = 0; i < m.size(); ++i) a.counts.values[i] += m[i];
    }
  }
  a.conditional = Matrix<double>(na, nb);
  for (int32_t i = 0; i < na; ++i) {
    int64_t row = 0;
    for (int32_t j = 0; j < nb; ++j) row += a.counts.at(i, j);
    if (row == 0) continue;
    for (int32_t j = 0; j < nb; ++j) {
      a.conditional.at(i, j) = double(a.counts.at(i, j)) / double(row);
    }
  }
  return a;
}

}  // namespace moescope::storage
