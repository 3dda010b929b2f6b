#include "storage/trace_reader.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "engine/common/error.h"
#include "engine/model/hparams.h"
#include "engine/model/routing_trace_recorder.h"
#include "storage/counter_fields.h"
#include "engine/policy/policy_factory.h"
#include "storage/policy_json.h"
#include "storage/read_checks.h"
#include "storage/routing_blob.h"
#include "storage/row_keys.h"
#include "storage/run_info.h"
#include "storage/schema.h"
#include "storage/sqlite_db.h"

namespace moescope::storage {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// More experts in one layer than any model has (and than the matrices a reader builds should
// hold): a damaged moe_layers row.
constexpr int64_t kMaxExperts = 65536;

Phase read_phase(const Statement& st, int col, const std::filesystem::path& path) {
  const int64_t p = st.int64(col);
  if (p != 0 && p != 1)
    fail("trace {} is damaged: phase {} is neither prefill nor decode", path.string(), p);
  return Phase(p);
}

// runs.status: the schema allows two values; anything else is damage, not "interrupted".
RunStatus read_status(const Statement& st, int col, int64_t run, const std::filesystem::path& path) {
  const std::string s = st.text(col);
  if (s == "complete") return RunStatus::kComplete;
  if (s == "interrupted") return RunStatus::kInterrupted;
  fail_damaged(path, "runs", fmt::format("id {}", run), "unknown status");
}

int32_t range_end(TokenRange r) {
  return std::max(r.begin, r.end);
}

int64_t clamp_pos(int64_t pos) {
  return std::clamp<int64_t>(pos, 0, kMaxPositions);
}

// The packed keys of positions [begin, end) of a run (row_keys.h).
struct KeyRange {
  int64_t lo, hi;
};
KeyRange token_keys(int64_t run, TokenRange r) {
  return {token_key(run, clamp_pos(r.begin)), token_key(run, clamp_pos(range_end(r)))};
}
KeyRange event_keys(int64_t run, TokenRange r) {
  return {event_key(run, clamp_pos(r.begin), 0), event_key(run, clamp_pos(range_end(r)), 0)};
}

void read_counters(const Statement& st, int first, policy::CacheCounters& c) {
  for (size_t i = 0; i < kCounterFields.size(); ++i)
    c.*kCounterFields[i] = st.int64(first + int(i));
}

// Whether SQLite could upgrade the file: the file and its directory (journal) writable.
bool writable(const std::filesystem::path& path) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  return ::access(path.c_str(), W_OK) == 0 && ::access(dir.c_str(), W_OK) == 0;
}

}  // namespace

// ---- opening ----------------------------------------------------------------------------------

TraceReader::TraceReader(const std::filesystem::path& path, ReaderOptions options) : path_(path) {
  db_ = std::make_unique<Database>(path, Database::Mode::kReadOnly);
  SchemaState state = inspect_schema(*db_);
  version_ = check_schema(*db_, state);
  if (version_ < kSchemaVersion && options.upgrade && writable(path)) {
    db_.reset();
    {
      Database rw(path, Database::Mode::kReadWrite);
      migrate(rw, migrations(), kSchemaVersion);
    }
    db_ = std::make_unique<Database>(path, Database::Mode::kReadOnly);
    state = inspect_schema(*db_);
    version_ = check_schema(*db_, state);
  }
}

TraceReader::~TraceReader() = default;

void TraceReader::hold_snapshot() {
  // BEGIN alone takes no snapshot: the first read does.
  db_->exec("BEGIN");
  db_->query_int("SELECT count(*) FROM runs");
}

int32_t TraceReader::phase_mask(policy::PhaseFilter phase) const {
  switch (phase) {
    case policy::PhaseFilter::kPrefill:
      return 1;
    case policy::PhaseFilter::kDecode:
      return 2;
    default:
      return 3;
  }
}

// ---- runs -------------------------------------------------------------------------------------

std::vector<RunSummary> TraceReader::runs() {
  std::vector<RunSummary> out;
  Statement st(*db_,
               "SELECT id, label, status, started_unix_ns, ended_unix_ns, model_path, "
               "architecture FROM runs ORDER BY id");
  while (st.step()) {
    RunSummary r;
    r.id = st.int64(0);
    r.label = st.text(1);
    r.status = read_status(st, 2, r.id, path_);
    r.started_unix_ns = st.int64(3);
    r.ended_unix_ns = st.is_null(4) ? 0 : st.int64(4);
    r.model_path = st.text(5);
    r.architecture = st.text(6);
    out.push_back(std::move(r));
  }
  Statement layers(*db_, "SELECT count(*) FROM moe_layers WHERE run = ?");
  Statement tokens(*db_,
                   "SELECT count(*), total(forwarded), total(forwarded AND phase = 0) FROM tokens "
                   "WHERE run = ?");
  Statement policies(*db_,
                     "SELECT spec FROM policies WHERE run = ? ORDER BY role = 'primary' DESC, "
                     "policy");
  for (RunSummary& r : out) {
    layers.bind(1, r.id);
    if (layers.step()) r.n_moe_layers = layers.int32(0);
    layers.reset();
    tokens.bind(1, r.id);
    if (tokens.step()) {
      r.n_tokens = tokens.int32(0);
      r.n_forwarded = int32_t(tokens.real(1));
      r.n_prefill = int32_t(tokens.real(2));
    }
    tokens.reset();
    policies.bind(1, r.id);
    while (policies.step()) r.policies.push_back(policies.text(0));
    policies.reset();
  }
  return out;
}

int64_t TraceReader::latest_run() {
  const int64_t id = db_->query_int("SELECT coalesce(max(id), 0) FROM runs");
  if (id == 0) fail("trace {} holds no runs", path_.string());
  return id;
}

void TraceReader::check_run(int64_t run) {
  Statement st(*db_, "SELECT 1 FROM runs WHERE id = ?");
  st.bind(1, run);
  if (st.step()) return;
  std::vector<int64_t> ids;
  Statement all(*db_, "SELECT id FROM runs ORDER BY id");
  while (all.step()) ids.push_back(all.int64(0));
  if (ids.empty()) fail("trace {} has no run {} (it holds no runs)", path_.string(), run);
  fail("trace {} has no run {} (runs: {})", path_.string(), run, fmt::join(ids, ", "));
}

RunInfo TraceReader::run_info(int64_t run) {
  check_run(run);
  Statement st(*db_,
               "SELECT label, status, started_unix_ns, ended_unix_ns, model_path, model_sha256, "
               "model_bytes, architecture, model_name, quantization, n_model_layers, n_vocab, "
               "gating, seed, settings, machine, moescope_version, summary FROM runs WHERE id = ?");
  st.bind(1, run);
  st.step();
  RunInfo r;
  r.id = run;
  r.label = st.text(0);
  r.status = read_status(st, 1, run, path_);
  r.started_unix_ns = st.int64(2);
  r.ended_unix_ns = st.is_null(3) ? 0 : st.int64(3);
  ModelDescription& m = r.model;
  m.path = st.text(4);
  m.sha256 = st.text(5);
  m.file_bytes = uint64_t(st.int64(6));
  m.architecture = st.text(7);
  m.name = st.text(8);
  m.quantization = st.text(9);
  m.n_model_layers = st.int32(10);
  m.n_vocab = st.int32(11);
  m.gating = st.text(12);
  r.seed = uint64_t(st.int64(13));
  r.settings_json = st.text(14);
  r.machine_json = st.text(15);
  r.moescope_version = st.text(16);
  r.summary_json = st.is_null(17) ? "" : st.text(17);
  const std::string row = fmt::format("id {}", run);
  check_not_negative(path_, "runs", row, "model_bytes", st.int64(6));
  check_not_negative(path_, "runs", row, "n_model_layers", m.n_model_layers);
  check_not_negative(path_, "runs", row, "n_vocab", m.n_vocab);
  st.reset();
  if (version_ >= 3) read_import_source(run, r);
  m.shape = shape(run);
  return r;
}

policy::MoeShape TraceReader::shape(int64_t run) {
  check_run(run);
  Statement st(*db_,
               "SELECT layer, model_layer, n_experts, top_k, expert_bytes FROM moe_layers "
               "WHERE run = ? ORDER BY layer");
  st.bind(1, run);
  policy::MoeShape s;
  while (st.step()) {
    if (st.int64(0) != s.n_layers()) {
      fail_damaged(path_, "moe_layers", fmt::format("run {}, layer {}", run, st.int64(0)),
                   fmt::format("expected layer {} (a gap in the MoE layers)", s.n_layers()));
    }
    const std::string row = fmt::format("run {}, layer {}", run, st.int64(0));
    check_not_negative(path_, "moe_layers", row, "model_layer", st.int64(1));
    check_not_negative(path_, "moe_layers", row, "expert_bytes", st.int64(4));
    if (st.int64(2) < 1 || st.int64(2) > kMaxExperts || st.int64(3) < 1 ||
        st.int64(3) > st.int64(2)) {
      fail_damaged(path_, "moe_layers", row,
                   fmt::format("has a bad expert layout ({} experts, top-k {})", st.int64(2),
                               st.int64(3)));
    }
    s.model_layer.push_back(st.int32(1));
    s.n_experts.push_back(st.int32(2));
    s.top_k.push_back(st.int32(3));
    s.expert_bytes.push_back(uint64_t(st.int64(4)));
  }
  try {
    s.validate();
  } catch (const Error& e) {
    fail("trace {} is damaged: run {} has a bad expert layout ({})", path_.string(), run, e.what());
  }
  return s;
}

std::vector<PromptRecord> TraceReader::prompts(int64_t run) {
  check_run(run);
  Statement st(*db_,
               "SELECT idx, first_pos, n_tokens, text FROM prompts WHERE run = ? ORDER BY idx");
  st.bind(1, run);
  std::vector<PromptRecord> out;
  while (st.step()) out.push_back({st.int32(0), st.int32(1), st.int32(2), st.text(3)});
  return out;
}

// ---- rows -------------------------------------------------------------------------------------

std::vector<TokenRecord> TraceReader::tokens(int64_t run, TokenRange range) {
  check_run(run);
  Statement st(*db_,
               fmt::format("SELECT pos, token_id, text, phase, forwarded, chunk_first, start_ns, "
                           "end_ns, compute_ns, stall_ns, {}, {} FROM tokens WHERE run = ? AND "
                           "pos >= ? AND pos < ? ORDER BY pos",
                           version_ >= 2 ? "kind" : "NULL",
                           version_ >= 3 ? "request, step" : "0, NULL"));
  st.bind(1, run).bind(2, range.begin).bind(3, range_end(range));
  std::vector<TokenRecord> out;
  while (st.step()) {
    TokenRecord t;
    t.pos = st.int32(0);
    t.token_id = st.int32(1);
    t.text = st.text(2);
    t.phase = read_phase(st, 3, path_);
    t.forwarded = st.int64(4) != 0;
    t.chunk_first = st.int32(5);
    t.start_ns = st.int64(6);
    t.end_ns = st.int64(7);
    t.compute_ns = st.int64(8);
    t.stall_ns = st.int64(9);
    const std::string row = fmt::format("run {}, pos {}", run, t.pos);
    check_not_negative(path_, "tokens", row, "compute_ns", t.compute_ns);
    check_not_negative(path_, "tokens", row, "stall_ns", t.stall_ns);
    if (!st.is_null(10)) {
      const int64_t kind = st.int64(10);
      if (kind < 0 || kind > int64_t(TokenKind::kUnknown))
        fail("trace {} is damaged (token {} has kind {})", path_.string(), t.pos, kind);
      t.kind = TokenKind(kind);
    }
    t.request = st.int32(11);
    t.step = st.is_null(12) ? -1 : st.int32(12);
    if (t.request < 0) fail("trace {} is damaged (token {} has request {})", path_.string(), t.pos,
                            t.request);
    out.push_back(std::move(t));
  }
  return out;
}

void TraceReader::for_each_routing(
    int64_t run, const policy::MoeShape& shape, TokenRange range,
    const std::function<void(int32_t pos, const DecodedRouting&)>& visit) {
  Statement st(*db_,
               "SELECT id, counts, experts, weights, logits, cache FROM routing WHERE id >= ? AND "
               "id < ? ORDER BY id");
  const KeyRange k = token_keys(run, range);
  st.bind(1, k.lo).bind(2, k.hi);
  const int width = expert_id_width(shape);
  DecodedRouting d;
  while (st.step()) {
    const auto pos = int32_t((st.int64(0) >> 16) & (kMaxPositions - 1));
    const std::string what =
        fmt::format("trace {} is damaged: routing row (run {}, pos {})", path_.string(), run, pos);
    decode_routing(shape, width, st.blob(1), st.blob(2), st.blob(3), st.blob(4), st.blob(5), d,
                   what.c_str());
    visit(pos, d);
  }
}

std::vector<RouterCandidates> TraceReader::router_candidates(int64_t run, TokenRange range) {
  check_run(run);
  std::vector<RouterCandidates> out;
  if (version_ < 4) return out;
  const policy::MoeShape s = shape(run);
  const int width = expert_id_width(s);
  Statement st(*db_,
               "SELECT id, experts, scores FROM router_candidates WHERE id >= ? AND id < ? "
               "ORDER BY id");
  const KeyRange k = token_keys(run, range);
  st.bind(1, k.lo).bind(2, k.hi);
  const std::string what = "trace " + path_.string();
  while (st.step()) {
    const auto pos = int32_t((st.int64(0) >> 16) & (kMaxPositions - 1));
    out.push_back(decode_router_candidates(s, width, pos, st.blob(1), st.blob(2), what.c_str()));
  }
  return out;
}

bool TraceReader::has_router_candidates(int64_t run) {
  check_run(run);
  if (version_ < 4) return false;
  Statement st(*db_, "SELECT EXISTS (SELECT 1 FROM router_candidates WHERE id >= ? AND id < ?)");
  const KeyRange k = token_keys(run, {});
  st.bind(1, k.lo).bind(2, k.hi);
  return st.step() && st.int64(0) != 0;
}

std::vector<GatePrediction> TraceReader::gate_predictions(int64_t run, TokenRange range) {
  check_run(run);
  std::vector<GatePrediction> out;
  if (version_ < 2) return out;
  const policy::MoeShape s = shape(run);
  const int width = expert_id_width(s);
  Statement st(*db_,
               "SELECT id, counts, experts FROM gate_predictions WHERE id >= ? AND id < ? "
               "ORDER BY id");
  const KeyRange k = token_keys(run, range);
  st.bind(1, k.lo).bind(2, k.hi);
  while (st.step()) {
    const auto pos = int32_t((st.int64(0) >> 16) & (kMaxPositions - 1));
    const std::span<const std::byte> counts = st.blob(1), experts = st.blob(2);
    if (counts.size() != size_t(s.n_layers())) {
      fail("trace {} is damaged (next-gate predictions of position {} have {} layers, not {})",
           path_.string(), pos, counts.size(), s.n_layers());
    }
    size_t at = 0;
    for (int32_t l = 0; l < s.n_layers(); ++l) {
      const auto n = size_t(counts[size_t(l)]);
      if (n == 0) continue;
      if (experts.size() < (at + n) * size_t(width)) {
        fail("trace {} is damaged (next-gate predictions of position {} are truncated)",
             path_.string(), pos);
      }
      GatePrediction& g = out.emplace_back();
      g.pos = pos;
      g.layer = MoeLayerId(l);
      for (size_t i = 0; i < n; ++i, ++at) {
        int32_t e = 0;
        for (int b = 0; b < width; ++b)
          e |= int32_t(uint8_t(experts[at * size_t(width) + size_t(b)])) << (8 * b);
        if (e >= s.n_experts[size_t(l)]) {
          fail("trace {} is damaged (predicted expert {} at layer {})", path_.string(), e, l);
        }
        g.experts.push_back(ExpertId(e));
      }
    }
    if (at * size_t(width) != experts.size()) {
      fail("trace {} is damaged (next-gate predictions of position {} have extra bytes)",
           path_.string(), pos);
    }
  }
  return out;
}

GatePredictionMap TraceReader::gate_prediction_map(int64_t run) {
  GatePredictionMap out;
  for (GatePrediction& g : gate_predictions(run))
    out[{TokenPos(g.pos), g.layer}] = std::move(g.experts);
  return out;
}

std::vector<RoutingEntry> TraceReader::routing(int64_t run, TokenRange range,
                                               std::optional<MoeLayerId> layer) {
  const policy::MoeShape s = shape(run);
  std::vector<RoutingEntry> out;
  for_each_routing(run, s, range, [&](int32_t pos, const DecodedRouting& d) {
    for (int32_t l = 0; l < s.n_layers(); ++l) {
      if (layer && layer->value != l) continue;
      for (int64_t i = d.offset[size_t(l)]; i < d.offset[size_t(l) + 1]; ++i) {
        const auto at = size_t(i);
        out.push_back({pos, MoeLayerId(l), int32_t(i - d.offset[size_t(l)]), d.experts[at],
                       d.weights[at], d.logits[at], AccessOutcome(d.cache[at])});
      }
    }
  });
  return out;
}

std::vector<LayerTiming> TraceReader::layer_timings(int64_t run, TokenRange range) {
  check_run(run);
  const int32_t L = shape(run).n_layers();
  Statement st(*db_,
               "SELECT pos, n_tokens, compute_ns, stall_ns FROM layer_timings "
               "WHERE id >= ? AND id < ?");
  const KeyRange k = token_keys(run, range);
  st.bind(1, k.lo).bind(2, k.hi);
  std::vector<LayerTiming> out;
  while (st.step()) {
    const std::vector<int64_t> compute = read_i64s(st.blob(2)), stall = read_i64s(st.blob(3));
    if (compute.size() != size_t(L) || stall.size() != size_t(L)) {
      fail("trace {} is damaged: layer timings at position {} are not {} layers", path_.string(),
           st.int64(0), L);
    }
    const std::string row = fmt::format("run {}, pos {}", run, st.int64(0));
    check_not_negative(path_, "layer_timings", row, "n_tokens", st.int64(1));
    for (int32_t l = 0; l < L; ++l) {
      check_not_negative(path_, "layer_timings", row, "compute_ns", compute[size_t(l)]);
      check_not_negative(path_, "layer_timings", row, "stall_ns", stall[size_t(l)]);
      out.push_back(
          {st.int32(0), MoeLayerId(l), st.int32(1), compute[size_t(l)], stall[size_t(l)]});
    }
  }
  return out;
}

std::vector<CacheEvent> TraceReader::cache_events(int64_t run, TokenRange range,
                                                  bool with_accesses) {
  const policy::MoeShape shape = with_accesses ? this->shape(run) : policy::MoeShape{};
  Statement st(*db_,
               "SELECT pos, layer, kind, expert, bytes, wait_ns, t_ns FROM cache_events "
               "WHERE id >= ? AND id < ?");
  const KeyRange k = event_keys(run, range);
  st.bind(1, k.lo).bind(2, k.hi);
  std::vector<CacheEvent> out;
  while (st.step()) {
    const int64_t kind = st.int64(2);
    const std::string row = fmt::format("run {}, pos {}, layer {}, expert {}", run, st.int64(0),
                                        st.int64(1), st.int64(3));
    if (kind < 1 || kind > 8) fail_damaged(path_, "cache_events", row, "unknown kind");
    check_not_negative(path_, "cache_events", row, "bytes", st.int64(4));
    check_not_negative(path_, "cache_events", row, "wait_ns", st.int64(5));
    if (with_accesses &&
        (st.int64(1) < 0 || st.int64(1) >= shape.n_layers() || st.int64(3) < 0 ||
         st.int64(3) >= shape.n_experts[size_t(st.int64(1))])) {
      fail_damaged(path_, "cache_events", row, "no such MoE layer or expert");
    }
    out.push_back({CacheEventKind(kind), st.int32(0), MoeLayerId(st.int32(1)),
                   ExpertId(st.int32(3)), st.int64(4), st.int64(5), st.int64(6)});
  }
  if (!with_accesses) return out;
  // The accesses kept only as outcomes, unless a row of their own says more.
  auto key = [](const CacheEvent& e) {
    return std::tuple(e.pos, e.layer.value, e.expert.value, int(e.kind));
  };
  std::set<std::tuple<int32_t, int32_t, int32_t, int>> stored;
  for (const CacheEvent& e : out) {
    if (is_access_event(e.kind)) stored.insert(key(e));
  }
  auto add = [&](CacheEventKind kind, const RoutingEntry& r, int64_t bytes) {
    const CacheEvent e{kind, r.pos, r.layer, r.expert, bytes, 0, -1};
    if (!stored.count(key(e))) out.push_back(e);
  };
  for (const RoutingEntry& r : routing(run, range)) {
    if (r.layer.value < 0 || r.layer.value >= shape.n_layers()) continue;
    const auto bytes = int64_t(shape.expert_bytes[size_t(r.layer.value)]);
    switch (r.cache) {
      case AccessOutcome::kNone:
        break;
      case AccessOutcome::kHit:
        add(CacheEventKind::kHit, r, 0);
        break;
      case AccessOutcome::kMiss:
        add(CacheEventKind::kMiss, r, bytes);
        break;
      case AccessOutcome::kBypass:
        add(CacheEventKind::kBypass, r, bytes);
        break;
      case AccessOutcome::kLateHit:
        add(CacheEventKind::kLate, r, 0);
        [[fallthrough]];
      case AccessOutcome::kPrefetchHit:
        add(CacheEventKind::kPrefetchUsed, r, 0);
        break;
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const CacheEvent& a, const CacheEvent& b) { return a.pos < b.pos; });
  return out;
}

std::vector<int32_t> TraceReader::forward_calls(int64_t run) {
  check_run(run);
  Statement st(*db_,
               "SELECT DISTINCT chunk_first FROM tokens WHERE run = ? AND forwarded = 1 "
               "ORDER BY chunk_first");
  st.bind(1, run);
  std::vector<int32_t> out;
  while (st.step()) out.push_back(st.int32(0));
  return out;
}

// ---- matrices ---------------------------------------------------------------------------------

TokenExpertMatrix TraceReader::token_expert(int64_t run, MoeLayerId layer, TokenRange range) {
  const policy::MoeShape s = shape(run);
  if (layer.value < 0 || layer.value >= s.n_layers()) {
    fail("run {} has MoE layers 0 to {}, not {}", run, s.n_layers() - 1, layer.value);
  }
  const int32_t n = s.n_experts[size_t(layer.value)];
  TokenExpertMatrix m;
  m.layer = layer;
  std::vector<float> w;
  const auto l = size_t(layer.value);
  for_each_routing(run, s, range, [&](int32_t pos, const DecodedRouting& d) {
    m.positions.push_back(pos);
    w.resize(w.size() + size_t(n), 0.0f);
    for (int64_t i = d.offset[l]; i < d.offset[l + 1]; ++i) {
      w[(m.positions.size() - 1) * size_t(n) + size_t(d.experts[size_t(i)].value)] =
          d.weights[size_t(i)];
    }
  });
  m.weights.rows = int32_t(m.positions.size());
  m.weights.cols = n;
  m.weights.values = std::move(w);
  return m;
}

// ---- policies ---------------------------------------------------------------------------------

namespace {
// Old traces spell the bypassing oracle "belady"; read every spelling as today's canonical one.
std::string canonical_policy(const std::string& text) {
  try {
    return policy::parse_policy_spec(text).text;
  } catch (const Error&) {
    return text;  // unknown here: replay reports it when it is used
  }
}
}  // namespace

std::vector<PolicyDescription> TraceReader::policies(int64_t run) {
  check_run(run);
  Statement st(*db_,
               "SELECT policy, role, spec, prefetcher, capacity, timing, report_policy, "
               "report_prefetcher, end_ns FROM policies WHERE run = ? ORDER BY policy");
  st.bind(1, run);
  std::vector<PolicyDescription> out;
  const policy::MoeShape s = shape(run);
  while (st.step()) {
    PolicyDescription d;
    d.id = st.int32(0);
    const std::string row = fmt::format("run {}, policy {}", run, d.id);
    const std::string role = st.text(1);
    if (role != "primary" && role != "shadow" && role != "oracle" && role != "mirror") {
      fail_damaged(path_, "policies", row, "unknown role");
    }
    d.primary = role == "primary";
    d.spec = canonical_policy(st.text(2));
    d.prefetcher = st.text(3);
    d.capacity = capacity_from_json(st.text(4));
    d.timing = timing_from_json(st.text(5), &d.measured_compute);
    d.report_policy = st.is_null(6) ? d.spec : canonical_policy(st.text(6));
    d.report_prefetcher = st.is_null(7) ? d.prefetcher : st.text(7);
    d.end_ns = st.is_null(8) ? -1 : st.int64(8);
    if (!st.is_null(8)) check_not_negative(path_, "policies", row, "end_ns", d.end_ns);
    check_capacity(path_, row, d.capacity, s);
    out.push_back(std::move(d));
  }
  return out;
}

PolicyDescription TraceReader::policy(int64_t run, int32_t id) {
  std::vector<PolicyDescription> all = policies(run);
  for (PolicyDescription& d : all) {
    if (d.id == id) return std::move(d);
  }
  if (all.empty()) fail("run {} of trace {} recorded no cache policies", run, path_.string());
  fail("run {} of trace {} has no policy {} (policies 0 to {})", run, path_.string(), id,
       all.size() - 1);
}

std::vector<policy::CacheCounters> TraceReader::policy_tokens(int64_t run, int32_t id,
                                                              TokenRange range) {
  policy(run, id);
  int32_t end = range_end(range);
  if (end == std::numeric_limits<int32_t>::max()) {
    Statement n(*db_,
                "SELECT max(coalesce((SELECT token_counters FROM policies WHERE run = ?1 AND "
                "policy = ?2), 0), coalesce((SELECT max(pos) + 1 FROM policy_tokens WHERE "
                "run = ?1 AND policy = ?2), 0))");
    n.bind(1, run).bind(2, id);
    const int64_t stored_end = n.step() ? n.int64(0) : 0;
    if (stored_end < 0 || stored_end > kMaxPositions) {
      fail_damaged(path_, "policies", fmt::format("run {}, policy {}", run, id),
                   fmt::format("token_counters {} is impossible", stored_end));
    }
    end = std::max(range.begin, int32_t(stored_end));
  }
  std::vector<policy::CacheCounters> out(size_t(end - range.begin));
  Statement st(*db_,
               fmt::format("SELECT pos, {} FROM policy_tokens WHERE run = ? AND policy = ? AND "
                           "pos >= ? AND pos < ?",
                           kCounterColumns));
  st.bind(1, run).bind(2, id).bind(3, range.begin).bind(4, end);
  while (st.step()) {
    policy::CacheCounters& c = out[size_t(st.int32(0) - range.begin)];
    read_counters(st, 1, c);
    check_counters(path_, "policy_tokens",
                   fmt::format("run {}, policy {}, pos {}", run, id, st.int64(0)), c);
  }
  return out;
}

policy::CacheReport TraceReader::policy_report(int64_t run, int32_t id) {
  const PolicyDescription d = policy(run, id);
  const int32_t L = shape(run).n_layers();
  policy::CacheReport r;
  r.policy = d.report_policy;
  r.prefetcher = d.report_prefetcher;
  r.end_ns = d.end_ns < 0 ? 0 : d.end_ns;
  r.token = policy_tokens(run, id);
  Statement st(*db_, fmt::format("SELECT phase, layer, {} FROM policy_layers WHERE run = ? AND "
                                 "policy = ? ORDER BY phase, layer",
                                 kCounterColumns));
  st.bind(1, run).bind(2, id);
  bool have_phase = false;
  while (st.step()) {
    const int64_t ph = st.int64(0), l = st.int64(1);
    const std::string row = fmt::format("run {}, policy {}, phase {}, layer {}", run, id, ph, l);
    if (ph < 0 || ph > 1 || l < -1 || l >= L) {
      fail_damaged(path_, "policy_layers", row, "no such phase or MoE layer");
    }
    if (l < 0) {
      read_counters(st, 2, r.phase[size_t(ph)]);
      check_counters(path_, "policy_layers", row, r.phase[size_t(ph)]);
      have_phase = true;
    } else {
      auto& layers = r.layer[size_t(ph)];
      if (layers.size() <= size_t(l)) layers.resize(size_t(l) + 1);
      read_counters(st, 2, layers[size_t(l)]);
      check_counters(path_, "policy_layers", row, layers[size_t(l)]);
    }
  }
  if (!have_phase) {  // interrupted: sum the tokens by the phase of the token they are booked on
    const std::vector<TokenRecord> toks = tokens(run, {0, int32_t(r.token.size())});
    for (const TokenRecord& t : toks) {
      if (size_t(t.pos) < r.token.size()) r.phase[size_t(t.phase)] += r.token[size_t(t.pos)];
    }
  }
  return r;
}

// ---- the routing trace ------------------------------------------------------------------------

namespace {

// Grows the selected experts and weights to the run's whole size extrapolated from the tokens
// read so far, instead of doubling: a doubling copy of a 1 M-token run's routing held half as
// much again as the routing itself at its peak. The estimate comes from rows that exist, so a
// damaged shape cannot make it reserve more than the file could hold.
void reserve_extrapolated(policy::RoutingTrace& trace, size_t adding, int32_t pos, int64_t n) {
  const size_t need = trace.selected.size() + adding;
  if (need <= trace.selected.capacity()) return;
  const double per_token = double(need) / double(std::max(pos, 0) + 1);
  const auto expected = size_t(per_token * double(n) * 1.01) + adding;
  trace.selected.reserve(std::max(need, expected));
  trace.weights.reserve(std::max(need, expected));
}

}  // namespace

policy::RoutingTrace TraceReader::routing_trace(int64_t run, RoutingTraceOptions options) {
  policy::RoutingTrace trace;
  trace.shape = shape(run);
  const int32_t L = trace.shape.n_layers();
  {
    Statement st(*db_,
                 "SELECT pos, phase, token_id FROM tokens WHERE run = ? AND forwarded = 1 "
                 "ORDER BY pos");
    st.bind(1, run);
    bool ids = true;
    while (st.step()) {
      if (st.int64(0) != trace.n_tokens()) {
        fail("trace {} is damaged: run {} misses position {}", path_.string(), run,
             trace.n_tokens());
      }
      trace.phase.push_back(read_phase(st, 1, path_));
      trace.token_id.push_back(st.int32(2));
      ids = ids && st.int32(2) >= 0;
    }
    if (!ids) trace.token_id.clear();
  }
  const int64_t n = trace.n_tokens();
  const size_t cells = size_t(n) * size_t(L);
  trace.offsets.assign(cells + 1, 0);
  {
    // Positions without a routing row (possible only in a damaged file) select nothing.
    size_t cell = 0;
    for_each_routing(run, trace.shape, {}, [&](int32_t pos, const DecodedRouting& d) {
      if (pos >= n) {
        fail("trace {} is damaged: routing at position {} outside the run", path_.string(), pos);
      }
      const size_t first = size_t(pos) * size_t(L);
      reserve_extrapolated(trace, d.experts.size(), pos, n);
      while (cell < first) trace.offsets[++cell] = int64_t(trace.selected.size());
      trace.selected.insert(trace.selected.end(), d.experts.begin(), d.experts.end());
      trace.weights.insert(trace.weights.end(), d.weights.begin(), d.weights.end());
      for (int32_t l = 0; l < L; ++l) {
        trace.offsets[++cell] = trace.offsets[first] + d.offset[size_t(l) + 1];
      }
    });
    while (cell < cells) trace.offsets[++cell] = int64_t(trace.selected.size());
  }
  if (options.probs) {
    const int64_t total = trace.shape.total_experts();
    trace.probs.assign(size_t(n * total), 0.0f);
    Statement st(*db_, "SELECT pos, logits FROM router_logits WHERE id >= ? AND id < ?");
    st.bind(1, token_keys(run, {}).lo).bind(2, token_keys(run, {}).hi);
    const RunInfo info = run_info(run);
    const GatingFunc gating = gating_from_name(info.model.gating);
    int64_t found = 0;
    while (st.step()) {
      const int64_t pos = st.int64(0);
      const std::vector<float> logits = read_f32s(st.blob(1));
      if (pos < 0 || pos >= n || logits.size() != size_t(total)) {
        fail("trace {} is damaged: bad router logits at position {}", path_.string(), pos);
      }
      int64_t base = 0;
      for (int32_t l = 0; l < L; ++l) {
        const auto ne = size_t(trace.shape.n_experts[size_t(l)]);
        router_distribution(gating, std::span<const float>(logits).subspan(size_t(base), ne),
                            std::span<float>(trace.probs).subspan(size_t(pos * total + base), ne));
        base += int64_t(ne);
      }
      ++found;
    }
    if (found != n) {
      fail(
          "run {} of trace {} was recorded without router logits (record with them to get "
          "router probabilities)",
          run, path_.string());
    }
  }
  if (options.compute != ComputeSource::kNone) {
    trace.compute_ns.assign(cells, 0);
    Statement st(*db_, options.compute == ComputeSource::kCache
                           ? "SELECT pos, compute_ns FROM cache_compute WHERE id >= ? AND id < ?"
                           : "SELECT pos, compute_ns FROM layer_timings WHERE id >= ? AND id < ?");
    st.bind(1, token_keys(run, {}).lo).bind(2, token_keys(run, {}).hi);
    while (st.step()) {
      const int64_t pos = st.int64(0);
      const std::vector<int64_t> v = read_i64s(st.blob(1));
      if (pos < 0 || pos >= n || v.size() != size_t(L)) {
        fail("trace {} is damaged: compute times at position {} do not fit the run", path_.string(),
             pos);
      }
      for (int32_t l = 0; l < L; ++l) {
        trace.compute_ns[size_t(pos) * size_t(L) + size_t(l)] = std::max<int64_t>(0, v[size_t(l)]);
      }
    }
  }
  try {
    trace.validate();
  } catch (const Error& e) {
    fail("trace {} is damaged: run {}: {}", path_.string(), run, e.what());
  }
  return trace;
}

std::vector<double> cumulative_hit_rate(const std::vector<policy::CacheCounters>& tokens) {
  std::vector<double> out;
  out.reserve(tokens.size());
  int64_t hits = 0, accesses = 0;
  for (const policy::CacheCounters& c : tokens) {
    hits += c.hits;
    accesses += c.accesses;
    out.push_back(accesses ? double(hits) / double(accesses) : kNaN);
  }
  return out;
}

}  // namespace moescope::storage
