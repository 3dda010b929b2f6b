#include "views/session/trace_loading.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "engine/common/error.h"
#include "engine/policy/link_model.h"
#include "engine/policy/policy_factory.h"
#include "views/session/loaded_model.h"
#include "views/session/router_entropy.h"
#include "views/session/special_token.h"

namespace moescope::views {
namespace {

// The GUI's own spelling of a recorded (canonical) policy spec: "lfu:1" is the panel's "lfu".
// The panel offers bare names (parameters at their defaults), so the canonical spec without its
// parameters is the panel's spelling when it parses back to the same spec; any other spec keeps
// its canonical spelling.
QString gui_spelling(const std::string& canonical) {
  const std::string bare = canonical.substr(0, canonical.find(':'));
  try {
    if (policy::parse_policy_spec(bare).text == canonical) return QString::fromStdString(bare);
  } catch (const Error&) {
  }
  return QString::fromStdString(canonical);
}

std::optional<CacheSettings> recorded_cache(storage::TraceReader& reader, int64_t run,
                                            const policy::MoeShape& shape) {
  const std::vector<storage::PolicyDescription> policies = reader.policies(run);
  auto primary = std::find_if(policies.begin(), policies.end(),
                              [](const storage::PolicyDescription& p) { return p.primary; });
  if (primary == policies.end()) return std::nullopt;
  CacheSettings c;
  c.policy = gui_spelling(primary->spec);
  c.prefetcher = QString::fromStdString(primary->prefetcher);
  const auto presets = policy::LinkModel::preset_names();
  c.link = std::find(presets.begin(), presets.end(), primary->timing.link.name) != presets.end()
               ? QString::fromStdString(primary->timing.link.name)
               : QStringLiteral("none");
  const double total = double(shape.total_experts());
  c.budget_percent =
      total > 0
          ? std::clamp(
                int(std::lround(100.0 * double(primary->capacity.total_slots(shape)) / total)), 1,
                100)
          : 25;
  c.compare.clear();
  for (const auto& p : policies) {
    if (!p.primary) c.compare << gui_spelling(p.spec);
  }
  return c;
}

}  // namespace

std::vector<storage::RunSummary> list_trace_runs(const std::filesystem::path& path) {
  storage::TraceReader reader(path);
  return reader.runs();
}

namespace {

// The loaded model is the one the run used, as far as its vocabulary and experts go.
bool same_model(const LoadedModel* model, const storage::RunInfo& info,
                const policy::MoeShape& shape) {
  return model && model->tokenizer && model->summary.architecture == info.model.architecture &&
         model->tokenizer->n_vocab() == info.model.n_vocab && model->shape == shape;
}

// Marks a recorded token special: by the kind the trace recorded (schema 2), else (schema 1) by
// the loaded model's vocabulary when it is the run's model (`model` null otherwise).
void classify_recorded(const storage::TokenRecord& t, const LoadedModel* model, TokenInfo& info) {
  const tokenizer::Tokenizer* tok = model ? model->tokenizer.get() : nullptr;
  if (t.kind != storage::TokenKind::kNotRecorded) {
    classify_token(t.kind, tok, info);
  } else if (tok) {
    classify_token(*tok, info);
  }
}

// A token's text for the comparison table: control tokens by name, marked.
QString comparison_text(const storage::TokenRecord& t, const LoadedModel* model) {
  TokenInfo info;
  info.id = t.token_id;
  info.text = QString::fromStdString(t.text);
  classify_recorded(t, model, info);
  return info.special ? QStringLiteral("⟨%1⟩").arg(info.text) : info.text;
}

}  // namespace

LoadedRun load_trace_run(const std::filesystem::path& path, int64_t run, const LoadedModel* model) {
  storage::TraceReader reader(path);
  if (run < 0) run = reader.latest_run();
  reader.check_run(run);
  LoadedRun out;
  out.run_id = run;
  out.shape = reader.shape(run);
  const storage::RunInfo info = reader.run_info(run);
  out.title = QStringLiteral("%1 #%2 (%3)")
                  .arg(QString::fromStdString(path.filename().string()))
                  .arg(run)
                  .arg(QString::fromStdString(info.model.name.empty() ? info.model.architecture
                                                                      : info.model.name));
  out.cache = recorded_cache(reader, run, out.shape);
  const bool same_vocab = same_model(model, info, out.shape);
  out.model_name =
      QString::fromStdString(info.model.name.empty() ? info.model.architecture : info.model.name);
  out.other_model = model && !same_vocab;

  // The measured layer compute the suitability judges with, chosen as the report chooses it: the
  // live cache's when it measured compute, else the trace observer's layer timings.
  storage::ComputeSource compute = storage::ComputeSource::kLayerTimings;
  for (const storage::PolicyDescription& p : reader.policies(run)) {
    if (p.primary && p.measured_compute) compute = storage::ComputeSource::kCache;
  }
  // Router probabilities give the entropy when the recording kept the logits.
  policy::RoutingTrace trace;
  try {
    trace = reader.routing_trace(run, {.probs = true, .compute = compute});
  } catch (const Error&) {
    trace = reader.routing_trace(run, {.compute = compute});
  }
  const std::vector<storage::TokenRecord> tokens = reader.tokens(run);
  RunDelta& d = out.data;
  d.tokens.reserve(tokens.size());
  int64_t last_end = 0;
  for (const storage::TokenRecord& t : tokens) {
    TokenInfo info;
    info.id = t.token_id;
    info.text = QString::fromStdString(t.text);
    info.generated = t.phase == policy::Phase::kDecode;
    info.elapsed_ms = double(t.forwarded ? t.start_ns : last_end) / 1e6;
    classify_recorded(t, same_vocab ? model : nullptr, info);
    if (t.forwarded) last_end = std::max(last_end, t.end_ns);
    d.tokens.push_back(std::move(info));
  }

  const int32_t L = trace.n_layers();
  const int64_t n = trace.n_tokens();
  const size_t keys = size_t(trace.shape.total_experts());
  d.phase = trace.phase;
  d.stall_ns.resize(size_t(n), -1);
  for (const storage::TokenRecord& t : tokens) {
    if (t.forwarded && t.pos < n) d.stall_ns[size_t(t.pos)] = t.stall_ns;
  }
  d.k.resize(size_t(n) * size_t(L));
  d.entropy_bits.assign(size_t(n) * size_t(L), std::numeric_limits<float>::quiet_NaN());
  d.experts = trace.selected;
  // What next-gate speculation predicted during the run: the analysis replays it.
  for (storage::GatePrediction& g : reader.gate_predictions(run)) {
    d.gate_predictions.push_back({g.pos, g.layer, std::move(g.experts)});
  }
  d.weights = trace.weights;
  d.compute_ns = trace.compute_ns;
  std::vector<int64_t> base(size_t(L) + 1, 0);
  for (int32_t l = 0; l < L; ++l)
    base[size_t(l) + 1] = base[size_t(l)] + trace.shape.n_experts[size_t(l)];
  for (int64_t t = 0; t < n; ++t) {
    for (int32_t l = 0; l < L; ++l) {
      const size_t row = size_t(t) * size_t(L) + size_t(l);
      d.k[row] = int32_t(trace.offsets[row + 1] - trace.offsets[row]);
      if (!trace.has_probs()) {
        // Recorded without the logits: the entropy of the normalised top-k weights instead.
        d.entropy_bits[row] =
            topk_weight_entropy_bits({trace.weights.data() + trace.offsets[row], size_t(d.k[row])});
        d.entropy_from_topk = true;
        continue;
      }
      double h = 0;
      for (int64_t k = base[size_t(l)]; k < base[size_t(l) + 1]; ++k) {
        const double p = trace.probs[size_t(t) * keys + size_t(k)];
        if (p > 0) h -= p * std::log2(p);
      }
      d.entropy_bits[row] = float(h);
    }
  }
  return out;
}

RunComparison compare_trace_runs(const std::filesystem::path& path, int64_t run_a, int64_t run_b,
                                 const LoadedModel* model) {
  storage::TraceReader reader(path);
  reader.check_run(run_a);
  reader.check_run(run_b);
  if (!(reader.shape(run_a) == reader.shape(run_b))) {
    fail("runs {} and {} of {} used models with different experts; they cannot be aligned", run_a,
         run_b, path.filename().string());
  }
  RunComparison c;
  c.run_a = run_a;
  c.run_b = run_b;
  const auto tokens_a = reader.tokens(run_a);
  const auto tokens_b = reader.tokens(run_b);
  if (!same_model(model, reader.run_info(run_a), reader.shape(run_a))) model = nullptr;
  const policy::RoutingTrace ra = reader.routing_trace(run_a);
  const policy::RoutingTrace rb = reader.routing_trace(run_b);
  auto primary_misses = [&reader](int64_t run) {
    std::vector<int64_t> out;
    for (const auto& p : reader.policies(run)) {
      if (!p.primary) continue;
      for (const auto& counters : reader.policy_tokens(run, p.id)) out.push_back(counters.misses);
    }
    return out;
  };
  const std::vector<int64_t> misses_a = primary_misses(run_a);
  const std::vector<int64_t> misses_b = primary_misses(run_b);
  const size_t n = std::max(tokens_a.size(), tokens_b.size());
  c.rows.resize(n);
  for (size_t i = 0; i < n; ++i) {
    RunComparison::Row& row = c.rows[i];
    row.pos = int32_t(i);
    if (i < tokens_a.size()) {
      row.id_a = tokens_a[i].token_id;
      row.text_a = comparison_text(tokens_a[i], model);
    }
    if (i < tokens_b.size()) {
      row.id_b = tokens_b[i].token_id;
      row.text_b = comparison_text(tokens_b[i], model);
    }
    if (i < misses_a.size()) row.misses_a = misses_a[i];
    if (i < misses_b.size()) row.misses_b = misses_b[i];
    if (c.first_divergent_token < 0 && row.id_a != row.id_b) c.first_divergent_token = int(i);
    if (int64_t(i) < ra.n_tokens() && int64_t(i) < rb.n_tokens()) {
      row.layers_differ = 0;
      for (int32_t l = 0; l < ra.n_layers(); ++l) {
        const auto ea = ra.experts(TokenPos(int32_t(i)), MoeLayerId(l));
        const auto eb = rb.experts(TokenPos(int32_t(i)), MoeLayerId(l));
        const std::set<ExpertId> sa(ea.begin(), ea.end()), sb(eb.begin(), eb.end());
        row.layers_differ += sa != sb;
      }
      if (c.first_divergent_routing < 0 && row.layers_differ > 0)
        c.first_divergent_routing = int(i);
    }
  }
  return c;
}

}  // namespace moescope::views
