#include "storage/trace_sink.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/common/error.h"
#include "engine/policy/prefetcher.h"
#include "storage/counter_fields.h"
#include "storage/policy_json.h"
#include "storage/router_candidates.h"
#include "storage/row_keys.h"
#include "storage/run_info.h"

namespace moescope::storage::detail {
namespace {

using Clock = std::chrono::steady_clock;

int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t outcome_key(int32_t pos, MoeLayerId layer, ExpertId expert) {
  return (uint64_t(uint32_t(pos)) << 32) | (uint64_t(uint16_t(layer.value)) << 16) |
         uint64_t(uint16_t(expert.value));
}

uint8_t outcome_of(CacheEventKind kind) {
  switch (kind) {
    case CacheEventKind::kHit:
      return uint8_t(AccessOutcome::kHit);
    case CacheEventKind::kMiss:
      return uint8_t(AccessOutcome::kMiss);
    case CacheEventKind::kBypass:
      return uint8_t(AccessOutcome::kBypass);
    case CacheEventKind::kPrefetchUsed:
      return uint8_t(AccessOutcome::kPrefetchHit);
    case CacheEventKind::kLate:
      return uint8_t(AccessOutcome::kLateHit);
    default:
      return 0;
  }
}

std::string counter_insert(const char* table, const char* keys, int n_keys) {
  std::string marks;
  for (int i = 0; i < n_keys + int(kCounterFields.size()); ++i) marks += i ? ",?" : "?";
  return fmt::format("INSERT OR REPLACE INTO {} ({}, {}) VALUES ({})", table, keys, kCounterColumns,
                     marks);
}

void bind_counters(Statement& st, int first, const policy::CacheCounters& c) {
  for (size_t i = 0; i < kCounterFields.size(); ++i) st.bind(first + int(i), c.*kCounterFields[i]);
}

}  // namespace

TraceSink::TraceSink(std::unique_ptr<Database> db, const WriterOptions& options)
    : db_(std::move(db)), options_(options) {
  Database& d = *db_;
  ins_run_ = Statement(d,
                       "INSERT INTO runs (label, status, started_unix_ns, model_path, "
                       "model_sha256, model_bytes, architecture, model_name, quantization, "
                       "n_model_layers, n_vocab, gating, seed, settings, machine, "
                       "moescope_version, source_format, source_path, source_sha256, "
                       "source_bytes, routing_detail) VALUES "
                       "(?, 'interrupted', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                       "RETURNING id");
  ins_layer_ = Statement(d, "INSERT INTO moe_layers VALUES (?, ?, ?, ?, ?, ?)");
  ins_prompt_ = Statement(d, "INSERT OR REPLACE INTO prompts VALUES (?, ?, ?, ?, ?)");
  ins_token_ = std::make_unique<BatchInsert>(
      d,
      "tokens (run, pos, token_id, text, phase, forwarded, chunk_first, start_ns, end_ns, "
      "compute_ns, stall_ns, kind, request, step)",
      14);
  upd_token_ =
      Statement(d, "UPDATE tokens SET token_id = ?, text = ?, kind = ? WHERE run = ? AND pos = ?");
  app_token_ = Statement(d, "UPDATE tokens SET text = text || ? WHERE run = ? AND pos = ?");
  ins_routing_ =
      std::make_unique<BatchInsert>(d, "routing (id, counts, experts, weights, logits, cache)", 6);
  ins_timing_ =
      std::make_unique<BatchInsert>(d, "layer_timings (id, n_tokens, compute_ns, stall_ns)", 4);
  ins_logits_ = std::make_unique<BatchInsert>(d, "router_logits (id, logits)", 2);
  ins_compute_ = std::make_unique<BatchInsert>(d, "cache_compute (id, compute_ns)", 2);
  ins_event_ = std::make_unique<BatchInsert>(
      d, "cache_events (id, layer, kind, expert, bytes, wait_ns, t_ns)", 7);
  ins_gate_ = std::make_unique<BatchInsert>(d, "gate_predictions (id, counts, experts)", 3);
  ins_candidates_ = std::make_unique<BatchInsert>(d, "router_candidates (id, experts, scores)", 3);
  sel_routing_ =
      Statement(d, "SELECT counts, experts, weights, logits, cache FROM routing WHERE id = ?");
  upd_routing_ = Statement(d, "UPDATE routing SET cache = ? WHERE id = ?");
  ins_policy_ = Statement(d,
                          "INSERT INTO policies (run, policy, role, spec, prefetcher, capacity, "
                          "timing) VALUES (?, ?, ?, ?, ?, ?, ?)");
  ins_policy_token_ = Statement(d, counter_insert("policy_tokens", "run, policy, pos", 3));
  ins_policy_layer_ = Statement(d, counter_insert("policy_layers", "run, policy, phase, layer", 4));
  upd_policy_ = Statement(d,
                          "UPDATE policies SET report_policy = ?, report_prefetcher = ?, "
                          "end_ns = ?, token_counters = ? WHERE run = ? AND policy = ?");
  ins_expert_stat_ =
      Statement(d, "INSERT OR REPLACE INTO expert_stats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  ins_affinity_ = Statement(d, "INSERT OR REPLACE INTO affinity VALUES (?, ?, ?, ?, ?, ?)");
  ins_layer_stat_ = Statement(d, "INSERT OR REPLACE INTO layer_stats VALUES (?, ?, ?, ?, ?, ?)");
  upd_summary_ = Statement(d, "UPDATE runs SET summary = ? WHERE id = ?");
  ins_request_ = Statement(d, "INSERT OR REPLACE INTO requests VALUES (?, ?, ?, ?)");
  upd_request_prompt_ = Statement(
      d, "UPDATE requests SET prompt = coalesce(prompt, '') || ? WHERE run = ? AND id = 0");
  ins_step_counts_ = Statement(d, "INSERT OR REPLACE INTO step_expert_counts VALUES (?, ?, ?)");
  upd_run_ = Statement(d,
                       "UPDATE runs SET status = 'complete', ended_unix_ns = ?, summary = ? "
                       "WHERE id = ?");
}

TraceSink::~TraceSink() = default;

void TraceSink::begin() {
  if (in_tx_) return;
  db_->exec("BEGIN IMMEDIATE");
  in_tx_ = true;
  tx_start_ = Clock::now();
}

void TraceSink::commit() {
  if (!in_tx_) return;
  write_staged();
  flush_batches();
  db_->exec("COMMIT");
  in_tx_ = false;
  ++commits_;
  if (run_) committed_tokens_ = run_->next_pos;
}

void TraceSink::flush_batches() {
  for (BatchInsert* b :
       {ins_token_.get(), ins_routing_.get(), ins_timing_.get(), ins_logits_.get(),
        ins_compute_.get(), ins_event_.get(), ins_gate_.get(), ins_candidates_.get()}) {
    b->flush();
  }
}

void TraceSink::close() {
  try {
    commit();
    db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db_->exec("PRAGMA journal_mode = DELETE");
  } catch (const Error&) {
    // Another connection still reads the file: it stays in WAL mode, which is fine.
  }
}

TraceSink::Run& TraceSink::run(const char* what) {
  if (!run_) fail("trace writer: {} without a run (call begin_run first)", what);
  return *run_;
}

int64_t TraceSink::handle(Message& message) {
  begin();
  return std::visit(
      [&](auto& m) -> int64_t {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, BeginRunMsg>) {
          return begin_run(m.info);
        } else if constexpr (std::is_same_v<T, PromptMsg>) {
          prompt(m);
        } else if constexpr (std::is_same_v<T, TokenMsg>) {
          token(m);
        } else if constexpr (std::is_same_v<T, RequestMsg>) {
          request(m);
        } else if constexpr (std::is_same_v<T, StepCountsMsg>) {
          step_counts(m);
        } else if constexpr (std::is_same_v<T, ForwardRecord>) {
          forward(m);
        } else if constexpr (std::is_same_v<T, EventsMsg>) {
          events(m.events);
        } else if constexpr (std::is_same_v<T, PolicyMsg>) {
          add_policy(m);
        } else if constexpr (std::is_same_v<T, CountersMsg>) {
          policy_counters(m);
        } else if constexpr (std::is_same_v<T, FinalReportMsg>) {
          final_report(m.policy, m.report, m.token_count);
        } else if constexpr (std::is_same_v<T, ComputeMsg>) {
          compute(m);
        } else if constexpr (std::is_same_v<T, FinishMsg>) {
          finish(m.summary, m.complete);
        }
        return 0;
      },
      message);
}

// ---- runs, prompts, tokens ---------------------------------------------------------------------

int64_t TraceSink::begin_run(RunInfo& info) {
  // Under the write lock: a failed recording that created the file may have removed it while
  // this writer waited (remove_trace_of_run); rows written now would be lost.
  std::error_code ec;
  if (!std::filesystem::exists(db_->path(), ec)) {
    fail("trace {} was removed by another process", db_->path().string());
  }
  if (run_) write_staged();  // the previous run stays interrupted
  run_.reset();
  const ModelDescription& m = info.model;
  ins_run_.bind(1, info.label).bind(2, info.started_unix_ns).bind(3, m.path).bind(4, m.sha256);
  ins_run_.bind(5, m.file_bytes).bind(6, m.architecture).bind(7, m.name).bind(8, m.quantization);
  ins_run_.bind(9, m.n_model_layers).bind(10, m.n_vocab).bind(11, m.gating).bind(12, info.seed);
  ins_run_.bind(13, info.settings_json).bind(14, info.machine_json);
  ins_run_.bind(15, info.moescope_version);
  if (info.imported()) {
    ins_run_.bind(16, info.source.format).bind(17, info.source.path).bind(18, info.source.sha256);
    ins_run_.bind(19, int64_t(info.source.bytes));
  } else {
    for (int c = 16; c <= 19; ++c) ins_run_.bind_null(c);
  }
  ins_run_.bind(20, std::string(routing_detail_name(info.routing_detail)));
  ins_run_.step();
  const int64_t id = ins_run_.int64(0);
  ins_run_.reset();
  ++rows_;
  if (id > kMaxRuns)
    fail("trace {} holds the most runs a trace can ({})", db_->path().string(), kMaxRuns);

  run_ = std::make_unique<Run>();
  Run& r = *run_;
  r.id = id;
  r.shape = m.shape;
  r.n_layers = m.shape.n_layers();
  r.width = expert_id_width(m.shape);
  r.counts_only = info.routing_detail == RoutingDetail::kCounts;
  if (!info.imported()) {  // a recorded run is one request; prompt() fills in its text
    ins_request_.bind(1, id).bind(2, 0).bind_null(3).bind(4, "{}").run();
    ++rows_;
  }
  const size_t keys = size_t(r.shape.total_experts());
  for (int p = 0; p < 2; ++p) {
    r.activations[p].assign(keys, 0);
    r.top1[p].assign(keys, 0);
    r.hits[p].assign(keys, 0);
    r.misses[p].assign(keys, 0);
    r.weight_sum[p].assign(keys, 0.0);
    r.layer_tokens[p].assign(size_t(r.n_layers), 0);
    r.layer_compute[p].assign(size_t(r.n_layers), 0);
    r.layer_stall[p].assign(size_t(r.n_layers), 0);
  }
  for (int32_t l = 0; l < r.n_layers; ++l) {
    ins_layer_.bind(1, id).bind(2, l).bind(3, m.shape.model_layer[size_t(l)]);
    ins_layer_.bind(4, m.shape.n_experts[size_t(l)]).bind(5, m.shape.top_k[size_t(l)]);
    ins_layer_.bind(6, m.shape.expert_bytes[size_t(l)]).run();
    ++rows_;
  }
  return id;
}

void TraceSink::prompt(const PromptMsg& m) {
  Run& r = run("a prompt");
  ins_prompt_.bind(1, r.id).bind(2, m.index).bind(3, m.first_pos);
  ins_prompt_.bind(4, int64_t(m.ids.size())).bind(5, m.text).run();
  ++rows_;
  upd_request_prompt_.bind(1, m.text).bind(2, r.id).run();
  for (size_t i = 0; i < m.ids.size(); ++i) {
    const std::string piece = i < m.pieces.size() ? m.pieces[i] : std::string();
    const TokenKind kind = i < m.kinds.size() ? m.kinds[i] : TokenKind::kNotRecorded;
    token({m.first_pos + int32_t(i), m.ids[i], piece, kind});
  }
}

void TraceSink::token(const TokenMsg& m) {
  Run& r = run("a token");
  if (m.pos < r.next_pos) {  // its row is written already
    ins_token_->flush();
    if (m.id < 0) {
      app_token_.bind(1, m.text).bind(2, r.id).bind(3, m.pos).run();
    } else {
      upd_token_.bind(1, m.id).bind(2, m.text);
      if (m.kind == TokenKind::kNotRecorded) {
        upd_token_.bind_null(3);
      } else {
        upd_token_.bind(3, int64_t(m.kind));
      }
      upd_token_.bind(4, r.id).bind(5, m.pos).run();
    }
    return;
  }
  TokenInfo& info = r.token_info[m.pos];
  if (m.id < 0) {
    info.text += m.text;
  } else {
    info.id = m.id;
    info.text = m.text;
    info.kind = m.kind;
  }
  if (m.request >= 0) info.request = m.request;
}

void TraceSink::add_token_row(const Run& r, int32_t pos, const TokenInfo& info, Phase phase,
                              bool forwarded, int32_t chunk_first, int64_t start_ns, int64_t end_ns,
                              int64_t compute_ns, int64_t stall_ns, int32_t request, int32_t step) {
  // kind and step are NULL when not recorded / not forwarded.
  auto add = [&](auto kind, auto step_value) {
    ins_token_->add(r.id, pos, info.id, std::string_view(info.text), int64_t(phase),
                    int64_t(forwarded), chunk_first, start_ns, end_ns, compute_ns, stall_ns, kind,
                    request, step_value);
  };
  const bool has_kind = info.kind != TokenKind::kNotRecorded;
  if (has_kind && step >= 0) {
    add(int64_t(info.kind), step);
  } else if (has_kind) {
    add(int64_t(info.kind), BatchInsert::Null{});
  } else if (step >= 0) {
    add(BatchInsert::Null{}, step);
  } else {
    add(BatchInsert::Null{}, BatchInsert::Null{});
  }
  ++rows_;
}

void TraceSink::request(const RequestMsg& m) {
  Run& r = run("a request");
  const RequestRecord& q = m.request;
  ins_request_.bind(1, r.id).bind(2, q.id);
  if (q.has_prompt) {
    ins_request_.bind(3, q.prompt);
  } else {
    ins_request_.bind_null(3);
  }
  ins_request_.bind(4, q.source_json).run();
  ++rows_;
}

void TraceSink::step_counts(const StepCountsMsg& m) {
  Run& r = run("step expert counts");
  blob_a_.clear();
  for (int64_t c : m.counts.counts) {
    const auto v = int32_t(c);
    const size_t at = blob_a_.size();
    blob_a_.resize(at + sizeof v);
    std::memcpy(blob_a_.data() + at, &v, sizeof v);
  }
  ins_step_counts_.bind(1, r.id).bind(2, m.counts.step).bind_blob(3, blob_a_);
  ins_step_counts_.run();
  ++rows_;
  // Booked as prefill (index 0): a counts-only dump does not tell the phases apart.
  for (int32_t l = 0; l < r.n_layers; ++l) {
    int64_t sum = 0;
    for (int32_t e = 0; e < r.shape.n_experts[size_t(l)]; ++e) {
      const int64_t key = r.shape.key_index({MoeLayerId(l), ExpertId(e)});
      r.activations[0][size_t(key)] += m.counts.counts[size_t(key)];
      sum += m.counts.counts[size_t(key)];
    }
    r.layer_tokens[0][size_t(l)] += sum / r.shape.top_k[size_t(l)];
  }
}

// One row per token with predictions: counts[n_layers] and the experts layer after layer.
void TraceSink::write_gate_predictions(const Run& r, const ForwardRecord& rec) {
  if (rec.gate_predictions.empty()) return;
  std::vector<const GatePrediction*> sorted;
  for (const GatePrediction& g : rec.gate_predictions) {
    if (g.layer.value < 0 || g.layer.value >= r.n_layers || g.pos < rec.first_pos ||
        g.pos >= rec.first_pos + rec.n_tokens || g.experts.size() > 255) {
      fail("trace writer: a next-gate prediction for position {} layer {} outside its call", g.pos,
           g.layer.value);
    }
    sorted.push_back(&g);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const GatePrediction* a, const GatePrediction* b) {
                     return std::pair(a->pos, a->layer.value) < std::pair(b->pos, b->layer.value);
                   });
  size_t i = 0;
  while (i < sorted.size()) {
    const int32_t pos = sorted[i]->pos;
    blob_a_.assign(size_t(r.n_layers), std::byte{0});
    blob_b_.clear();
    for (int32_t l = 0; l < r.n_layers; ++l) {
      // The last prediction of a (pos, layer) wins, as NextGatePrefetcher::supply_probe keeps it.
      const GatePrediction* g = nullptr;
      while (i < sorted.size() && sorted[i]->pos == pos && sorted[i]->layer.value == l)
        g = sorted[i++];
      if (g == nullptr) continue;
      blob_a_[size_t(l)] = std::byte(g->experts.size());
      for (ExpertId e : g->experts) {
        if (e.value < 0 || e.value >= r.shape.n_experts[size_t(l)])
          fail("trace writer: predicted expert {} does not exist in MoE layer {}", e.value, l);
        for (int b = 0; b < r.width; ++b) blob_b_.push_back(std::byte((e.value >> (8 * b)) & 0xff));
      }
    }
    ins_gate_->add(token_key(r.id, pos), BatchInsert::Blob{blob_a_}, BatchInsert::Blob{blob_b_});
    ++rows_;
  }
}

// ---- forward calls ----------------------------------------------------------------------------

void TraceSink::forward(ForwardRecord& rec) {
  Run& r = run("a forward pass");
  const int32_t L = r.n_layers, K = rec.k_max;
  const int ph = int(rec.phase);
  const int32_t step = rec.step >= 0 ? rec.step : r.next_step;
  r.next_step = step + 1;

  // Tokens: the forward call's time and stall are booked on its first token.
  for (int32_t t = 0; t < rec.n_tokens; ++t) {
    const int32_t pos = rec.first_pos + t;
    TokenInfo info;
    if (auto it = r.token_info.find(pos); it != r.token_info.end()) {
      info = std::move(it->second);
      r.token_info.erase(it);
    }
    const int64_t stall = t == 0 ? rec.stall_ns : 0;
    const int64_t compute = t == 0 ? rec.end_ns - rec.start_ns - rec.stall_ns : 0;
    const int32_t request = rec.requests.empty() ? 0 : rec.requests[size_t(t)];
    add_token_row(r, pos, info, rec.phase, true, rec.first_pos, rec.start_ns, rec.end_ns, compute,
                  stall, request, step);
    r.last_request = request;
    r.phase_of_pos.push_back(uint8_t(ph));
  }
  write_gate_predictions(r, rec);

  // Aggregates.
  for (int32_t t = 0; t < rec.n_tokens; ++t) {
    for (int32_t l = 0; l < L; ++l) {
      const size_t at = (size_t(t) * L + l) * K;
      const int n = rec.count[size_t(t) * L + l];
      r.layer_tokens[ph][l] += 1;
      for (int i = 0; i < n; ++i) {
        const int64_t key = r.shape.key_index({MoeLayerId(l), rec.experts[at + i]});
        r.activations[ph][key] += 1;
        if (i == 0) r.top1[ph][key] += 1;
        if (!std::isnan(rec.weights[at + i])) r.weight_sum[ph][key] += double(rec.weights[at + i]);
      }
      if (l + 1 < L) {
        auto& aff = r.affinity[ph];
        if (aff.empty()) aff.resize(size_t(L - 1));
        const int32_t nb = r.shape.n_experts[l + 1];
        if (aff[l].empty()) aff[l].assign(size_t(r.shape.n_experts[l]) * nb, 0);
        const size_t next = (size_t(t) * L + l + 1) * K;
        const int n_next = rec.count[size_t(t) * L + l + 1];
        for (int i = 0; i < n; ++i)
          for (int j = 0; j < n_next; ++j)
            aff[l][size_t(rec.experts[at + i].value) * nb + rec.experts[next + j].value] += 1;
      }
    }
  }
  if (!rec.layer_ns.empty()) {
    blob_a_.clear();
    blob_b_.clear();
    for (int32_t l = 0; l < L; ++l) {
      const int64_t compute = rec.layer_ns[l] - rec.layer_stall_ns[l];
      r.layer_compute[ph][l] += compute;
      r.layer_stall[ph][l] += rec.layer_stall_ns[l];
      append_i64(blob_a_, compute);
      append_i64(blob_b_, rec.layer_stall_ns[l]);
    }
    if (options_.layer_timings) {
      ins_timing_->add(token_key(r.id, rec.first_pos), rec.n_tokens, BatchInsert::Blob{blob_a_},
                       BatchInsert::Blob{blob_b_});
      ++rows_;
    }
  }
  if (!rec.full_logits.empty()) {
    const auto total = size_t(r.shape.total_experts());
    for (int32_t t = 0; t < rec.n_tokens; ++t) {
      const float* p = rec.full_logits.data() + size_t(t) * total;
      ins_logits_->add(token_key(r.id, rec.first_pos + t),
                       BatchInsert::Blob{std::as_bytes(std::span<const float>(p, total))});
      ++rows_;
    }
  }

  if (!rec.candidates.empty()) {
    const size_t per_token = rec.candidates.size() / size_t(rec.n_tokens);
    for (int32_t t = 0; t < rec.n_tokens; ++t) {
      const size_t at = size_t(t) * per_token;
      encode_router_candidates({rec.candidates.data() + at, per_token},
                               {rec.candidate_scores.data() + at, per_token}, r.width, blob_a_,
                               blob_b_);
      ins_candidates_->add(token_key(r.id, rec.first_pos + t), BatchInsert::Blob{blob_a_},
                           BatchInsert::Blob{blob_b_});
      ++rows_;
    }
  }

  // Stage the routing rows; outcomes reported earlier are waiting for them.
  if (r.staged.empty()) r.staged_first = rec.first_pos;
  Staged& s = r.staged.emplace_back();
  s.outcome.assign(rec.experts.size(), 0);
  if (!r.pending_outcomes.empty()) {
    for (int32_t t = 0; t < rec.n_tokens; ++t)
      for (int32_t l = 0; l < L; ++l) {
        const size_t at = (size_t(t) * L + l) * K;
        for (int i = 0; i < rec.count[size_t(t) * L + l]; ++i) {
          auto it = r.pending_outcomes.find(
              outcome_key(rec.first_pos + t, MoeLayerId(l), rec.experts[at + i]));
          if (it == r.pending_outcomes.end()) continue;
          s.outcome[at + i] = it->second;
          r.pending_outcomes.erase(it);
        }
      }
  }
  r.next_pos = rec.first_pos + rec.n_tokens;
  s.record = std::move(rec);

  for (SimPolicy& p : r.sims) simulate(r, p, s);
}

void TraceSink::simulate(Run& r, SimPolicy& p, const Staged& s) {
  const ForwardRecord& rec = s.record;
  // A prefetcher that asks for router probes gets the ones the engine made in this call.
  if (!rec.gate_predictions.empty() && p.sim->prefetcher()->inputs().router_probe) {
    for (const GatePrediction& g : rec.gate_predictions)
      p.sim->prefetcher()->supply_probe({TokenPos(g.pos), g.layer}, g.experts);
  }
  const int32_t L = r.n_layers, K = rec.k_max;
  std::vector<policy::TokenLayerRouting> routing(size_t(rec.n_tokens));
  std::vector<CacheEvent> events;
  for (int32_t l = 0; l < L; ++l) {
    for (int32_t t = 0; t < rec.n_tokens; ++t) {
      const size_t at = (size_t(t) * L + l) * K;
      const size_t n = rec.count[size_t(t) * L + l];
      routing[size_t(t)] = {{rec.experts.data() + at, n}, {rec.weights.data() + at, n}, {}};
    }
    const policy::StepInput& in = step_builder_.make_step(
        TokenPos(rec.first_pos), MoeLayerId(l), rec.phase, routing, r.shape.n_experts[size_t(l)]);
    if (p.tap) p.tap->begin_step(*p.sim, in);
    p.sim->step(in);
    if (p.tap) p.tap->end_step(*p.sim, events);  // modelled: no wall time of their own
  }
  const auto& tokens = p.sim->report().token;
  for (int32_t pos = rec.first_pos; pos < rec.first_pos + rec.n_tokens && p.id >= 0; ++pos) {
    if (size_t(pos) >= tokens.size() || all_zero(tokens[size_t(pos)])) continue;
    ins_policy_token_.bind(1, r.id).bind(2, p.id).bind(3, pos);
    bind_counters(ins_policy_token_, 4, tokens[size_t(pos)]);
    ins_policy_token_.run();
    ++rows_;
  }
  if (!events.empty()) this->events(events);
}

// ---- cache events -----------------------------------------------------------------------------

void TraceSink::events(std::span<const CacheEvent> events) {
  Run& r = run("cache events");
  for (const CacheEvent& e : events) {
    if (outcome_of(e.kind) != 0) {
      set_outcome(r, e);
      // An access lives in its routing row's outcome; it gets a row of its own only when it
      // carries more: a wait, a time, or bytes other than one expert's.
      const bool loads = e.kind == CacheEventKind::kMiss || e.kind == CacheEventKind::kBypass;
      const int64_t plain_bytes = loads && e.layer.value >= 0 && e.layer.value < r.n_layers
                                      ? int64_t(r.shape.expert_bytes[size_t(e.layer.value)])
                                      : 0;
      if (e.wait_ns == 0 && e.t_ns < 0 && e.bytes == plain_bytes) continue;
    }
    if (e.pos < 0 || e.pos >= kMaxPositions) continue;
    int32_t& seq = r.event_seq[e.pos];
    if (seq >= kMaxEventsPerPos)
      fail("trace writer: more than {} cache events at position {}", kMaxEventsPerPos, e.pos);
    ins_event_->add(event_key(r.id, e.pos, seq++), int64_t(e.layer.value), int64_t(e.kind),
                    int64_t(e.expert.value), e.bytes, e.wait_ns, e.t_ns);
    ++rows_;
    ++r.event_rows;
  }
}

void TraceSink::set_outcome(Run& r, const CacheEvent& e) {
  const uint8_t outcome = outcome_of(e.kind);
  if (e.layer.value < 0 || e.layer.value >= r.n_layers || e.pos < 0) return;
  if (e.pos >= r.next_pos) {  // its routing has not arrived yet
    uint8_t& o = r.pending_outcomes[outcome_key(e.pos, e.layer, e.expert)];
    o = std::max(o, outcome);
    return;
  }
  if (e.pos >= r.staged_first && !r.staged.empty()) {
    for (auto it = r.staged.rbegin(); it != r.staged.rend(); ++it) {
      const ForwardRecord& rec = it->record;
      if (e.pos < rec.first_pos) continue;
      const int32_t t = e.pos - rec.first_pos;
      const size_t at = (size_t(t) * r.n_layers + e.layer.value) * rec.k_max;
      for (int i = 0; i < rec.count[size_t(t) * r.n_layers + e.layer.value]; ++i) {
        if (rec.experts[at + i] == e.expert) {
          it->outcome[at + i] = std::max(it->outcome[at + i], outcome);
          return;
        }
      }
      ++r.unmatched_outcomes;
      return;
    }
  }
  // Written already: update the row's outcomes and the aggregates.
  const int64_t id = token_key(r.id, e.pos);
  ins_routing_->flush();
  sel_routing_.bind(1, id);
  if (!sel_routing_.step()) {
    sel_routing_.reset();
    ++r.unmatched_outcomes;
    return;
  }
  decode_routing(r.shape, r.width, sel_routing_.blob(0), sel_routing_.blob(1), sel_routing_.blob(2),
                 sel_routing_.blob(3), sel_routing_.blob(4), decoded_, "trace writer");
  sel_routing_.reset();
  const size_t l = size_t(e.layer.value);
  int64_t at = -1;
  for (int64_t i = decoded_.offset[l]; i < decoded_.offset[l + 1]; ++i) {
    if (decoded_.experts[size_t(i)] == e.expert) at = i;
  }
  if (at < 0) {
    ++r.unmatched_outcomes;
    return;
  }
  const uint8_t old = decoded_.cache[size_t(at)];
  const uint8_t now = std::max(old, outcome);
  if (now == old) return;
  decoded_.cache[size_t(at)] = now;
  upd_routing_.bind_blob(1, std::as_bytes(std::span<const uint8_t>(decoded_.cache)));
  upd_routing_.bind(2, id).run();
  count_outcome(r, e.pos, e.layer, e.expert, old, -1);
  count_outcome(r, e.pos, e.layer, e.expert, now, +1);
}

void TraceSink::count_outcome(Run& r, int32_t pos, MoeLayerId layer, ExpertId expert,
                              uint8_t outcome, int sign) {
  const auto o = AccessOutcome(outcome);
  if (!is_hit(o) && !is_miss(o)) return;
  const int ph = r.phase_of_pos[size_t(pos)];
  const int64_t key = r.shape.key_index({layer, expert});
  (is_hit(o) ? r.hits : r.misses)[ph][key] += sign;
}

void TraceSink::write_staged() {
  if (!run_ || run_->staged.empty()) return;
  Run& r = *run_;
  const int32_t L = r.n_layers;
  for (const Staged& s : r.staged) {
    const ForwardRecord& rec = s.record;
    for (int32_t t = 0; t < rec.n_tokens; ++t) {
      const int32_t pos = rec.first_pos + t;
      blobs_.clear();
      for (int32_t l = 0; l < L; ++l) {
        const size_t at = (size_t(t) * L + l) * rec.k_max;
        const size_t n = rec.count[size_t(t) * L + l];
        blobs_.add_layer(r.shape, r.width, l, {rec.experts.data() + at, n},
                         {rec.weights.data() + at, n}, {rec.logits.data() + at, n},
                         {s.outcome.data() + at, n});
        for (size_t i = 0; i < n; ++i) {
          count_outcome(r, pos, MoeLayerId(l), rec.experts[at + i], s.outcome[at + i], +1);
        }
        r.routing_rows += int64_t(n);
      }
      const std::span<const std::byte> none;
      ins_routing_->add(token_key(r.id, pos),
                        BatchInsert::Blob{blobs_.default_counts ? none : blobs_.counts, true},
                        BatchInsert::Blob{blobs_.experts},
                        BatchInsert::Blob{rec.weights_recorded ? blobs_.weights : none},
                        BatchInsert::Blob{rec.weights_recorded ? blobs_.logits : none},
                        BatchInsert::Blob{blobs_.any_cache ? blobs_.cache : none, true});
      ++rows_;
    }
  }
  r.staged.clear();
  r.staged_first = r.next_pos;
}

// ---- policies ---------------------------------------------------------------------------------

void TraceSink::add_policy(PolicyMsg& m) {
  Run& r = run("a policy");
  const PolicyDescription& d = m.desc;
  if (d.id >= 0) {
    ins_policy_.bind(1, r.id).bind(2, d.id).bind(3, d.primary ? "primary" : "shadow");
    ins_policy_.bind(4, d.spec).bind(5, d.prefetcher).bind(6, capacity_to_json(d.capacity));
    ins_policy_.bind(7, timing_to_json(d.timing, d.measured_compute)).run();
    ++rows_;
  }
  if (m.sim) {
    SimPolicy& p = r.sims.emplace_back();
    p.id = d.id;
    p.sim = std::move(m.sim);
    p.future = std::move(m.future);
    if (m.events) {
      p.tap = std::make_unique<CacheEventTap>(p.sim->shape());
      p.sim->set_listener(&p.tap->listener());
    }
  }
}

void TraceSink::policy_counters(const CountersMsg& m) {
  Run& r = run("policy counters");
  for (size_t i = 0; i < m.counters.size(); ++i) {
    if (all_zero(m.counters[i])) continue;
    ins_policy_token_.bind(1, r.id).bind(2, m.policy).bind(3, m.first_pos + int64_t(i));
    bind_counters(ins_policy_token_, 4, m.counters[i]);
    ins_policy_token_.run();
    ++rows_;
  }
}

void TraceSink::final_report(int32_t policy, const policy::CacheReport& report,
                             int64_t token_count) {
  Run& r = run("a policy report");
  for (int ph = 0; ph < 2; ++ph) {
    ins_policy_layer_.bind(1, r.id).bind(2, policy).bind(3, ph).bind(4, -1);
    bind_counters(ins_policy_layer_, 5, report.phase[ph]);
    ins_policy_layer_.run();
    ++rows_;
    for (size_t l = 0; l < report.layer[ph].size(); ++l) {
      ins_policy_layer_.bind(1, r.id).bind(2, policy).bind(3, ph).bind(4, int64_t(l));
      bind_counters(ins_policy_layer_, 5, report.layer[ph][l]);
      ins_policy_layer_.run();
      ++rows_;
    }
  }
  upd_policy_.bind(1, report.policy).bind(2, report.prefetcher).bind(3, report.end_ns);
  upd_policy_.bind(4, token_count).bind(5, r.id).bind(6, policy).run();
}

void TraceSink::compute(const ComputeMsg& m) {
  Run& r = run("compute times");
  const auto L = size_t(r.n_layers);
  for (size_t t = 0; t * L < m.compute_ns.size(); ++t) {
    const std::span<const int64_t> row(m.compute_ns.data() + t * L, L);
    if (std::all_of(row.begin(), row.end(), [](int64_t v) { return v == 0; })) continue;
    blob_a_.clear();
    for (int64_t v : row) append_i64(blob_a_, v);
    ins_compute_->add(token_key(r.id, m.first_pos + int64_t(t)), BatchInsert::Blob{blob_a_});
    ++rows_;
  }
}

// ---- finish -----------------------------------------------------------------------------------

void TraceSink::write_aggregates(Run& r) {
  for (int ph = 0; ph < 2; ++ph) {
    for (int64_t key = 0; key < r.shape.total_experts(); ++key) {
      if (r.activations[ph][key] == 0 && r.hits[ph][key] == 0 && r.misses[ph][key] == 0) continue;
      const ExpertKey k = r.shape.key_at(key);
      ins_expert_stat_.bind(1, r.id).bind(2, ph).bind(3, k.layer.value).bind(4, k.expert.value);
      ins_expert_stat_.bind(5, r.activations[ph][key]).bind(6, r.top1[ph][key]);
      ins_expert_stat_.bind(7, r.weight_sum[ph][key]).bind(8, r.hits[ph][key]);
      ins_expert_stat_.bind(9, r.misses[ph][key]).run();
      ++rows_;
    }
    for (size_t l = 0; l < r.affinity[ph].size(); ++l) {
      const auto& m = r.affinity[ph][l];
      if (m.empty()) continue;
      const int32_t nb = r.shape.n_experts[l + 1];
      for (size_t i = 0; i < m.size(); ++i) {
        if (m[i] == 0) continue;
        ins_affinity_.bind(1, r.id).bind(2, ph).bind(3, int64_t(l)).bind(4, int64_t(i / nb));
        ins_affinity_.bind(5, int64_t(i % nb)).bind(6, m[i]).run();
        ++rows_;
      }
    }
    for (int32_t l = 0; l < r.n_layers; ++l) {
      if (r.layer_tokens[ph][l] == 0) continue;
      ins_layer_stat_.bind(1, r.id).bind(2, ph).bind(3, l).bind(4, r.layer_tokens[ph][l]);
      ins_layer_stat_.bind(5, r.layer_compute[ph][l]).bind(6, r.layer_stall[ph][l]).run();
      ++rows_;
    }
  }
}

void TraceSink::finish(const std::string& summary, bool complete) {
  Run& r = run("finish_run");
  write_staged();
  if (!complete) {  // aborted: the rows stay, the run stays interrupted, no aggregates
    upd_summary_.bind(1, summary).bind(2, r.id).run();
    commit();
    run_.reset();
    return;
  }
  // Tokens that were sampled but never run through the model (the last one of a generation).
  std::vector<int32_t> rest;
  for (const auto& [pos, info] : r.token_info) rest.push_back(pos);
  std::sort(rest.begin(), rest.end());
  for (int32_t pos : rest) {
    const TokenInfo& info = r.token_info[pos];
    const int32_t request = info.request >= 0 ? info.request : r.last_request;
    add_token_row(r, pos, info, Phase::kDecode, false, pos, 0, 0, 0, 0, request, -1);
  }
  r.token_info.clear();
  r.unmatched_outcomes += int64_t(r.pending_outcomes.size());
  for (SimPolicy& p : r.sims) {
    if (p.id >= 0) final_report(p.id, p.sim->report(), int64_t(p.sim->report().token.size()));
  }
  write_aggregates(r);

  nlohmann::json j = nlohmann::json::parse(summary, nullptr, false);
  if (!j.is_object()) j = nlohmann::json::object();
  j["forwarded_tokens"] = r.next_pos;
  j["routing_rows"] = r.routing_rows;
  j["cache_event_rows"] = r.event_rows;
  j["unmatched_outcomes"] = r.unmatched_outcomes;
  j["writer_blocked_ns"] = blocked_ns_;
  upd_run_.bind(1, unix_now_ns()).bind(2, j.dump()).bind(3, r.id).run();
  commit();
  run_.reset();
}

}  // namespace moescope::storage::detail
