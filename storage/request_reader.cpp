// The reader's view of schema 3: requests and steps of a run's tokens, imported runs' sources,
// counts-only runs, and per-token routing streamed with its request (what the expert-parallel
// simulator and other batch analyses read).
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "engine/common/error.h"
#include "storage/routing_blob.h"
#include "storage/row_keys.h"
#include "storage/schema.h"
#include "storage/sqlite_db.h"
#include "storage/trace_reader.h"

namespace moescope::storage {

std::span<const ExpertId> TokenRouting::experts(int32_t layer) const {
  const auto l = size_t(layer);
  return std::span<const ExpertId>(routing->experts)
      .subspan(size_t(routing->offset[l]), size_t(routing->offset[l + 1] - routing->offset[l]));
}

void TraceReader::read_import_source(int64_t run, RunInfo& info) {
  Statement st(*db_,
               "SELECT source_format, source_path, source_sha256, source_bytes, routing_detail "
               "FROM runs WHERE id = ?");
  st.bind(1, run);
  if (!st.step()) return;
  if (!st.is_null(0)) {
    info.source.format = st.text(0);
    info.source.path = st.is_null(1) ? "" : st.text(1);
    info.source.sha256 = st.is_null(2) ? "" : st.text(2);
    info.source.bytes = st.is_null(3) ? 0 : uint64_t(st.int64(3));
  }
  const std::string detail = st.text(4);
  if (detail != "tokens" && detail != "counts") {
    fail("trace {} is damaged (run {} has routing detail '{}')", path_.string(), run, detail);
  }
  info.routing_detail = detail == "counts" ? RoutingDetail::kCounts : RoutingDetail::kTokens;
}

std::vector<RequestRecord> TraceReader::requests(int64_t run) {
  check_run(run);
  std::map<int32_t, RequestRecord> by_id;
  if (version_ >= 3) {
    Statement st(*db_, "SELECT id, prompt, source FROM requests WHERE run = ? ORDER BY id");
    st.bind(1, run);
    while (st.step()) {
      RequestRecord& q = by_id[st.int32(0)];
      q.id = st.int32(0);
      q.has_prompt = !st.is_null(1);
      q.prompt = q.has_prompt ? st.text(1) : "";
      q.source_json = st.text(2);
    }
  }
  Statement st(*db_, version_ >= 3 ? "SELECT request, count(*) FROM tokens WHERE run = ? "
                                     "GROUP BY request"
                                   : "SELECT 0, count(*) FROM tokens WHERE run = ?");
  st.bind(1, run);
  while (st.step()) {
    if (st.int64(1) == 0) continue;
    RequestRecord& q = by_id[st.int32(0)];
    q.id = st.int32(0);
    q.n_tokens = st.int32(1);
  }
  std::vector<RequestRecord> out;
  for (auto& [id, q] : by_id) out.push_back(std::move(q));
  return out;
}

std::vector<StepExpertCounts> TraceReader::step_expert_counts(int64_t run) {
  check_run(run);
  std::vector<StepExpertCounts> out;
  if (version_ < 3) return out;
  const policy::MoeShape s = shape(run);
  const auto total = size_t(s.total_experts());
  Statement st(*db_, "SELECT step, counts FROM step_expert_counts WHERE run = ? ORDER BY step");
  st.bind(1, run);
  while (st.step()) {
    const std::span<const std::byte> blob = st.blob(1);
    if (blob.size() != total * sizeof(int32_t)) {
      fail("trace {} is damaged (step {} of run {} has counts for {} bytes, not {} experts)",
           path_.string(), st.int64(0), run, blob.size(), total);
    }
    StepExpertCounts& c = out.emplace_back();
    c.step = st.int32(0);
    c.counts.resize(total);
    for (size_t i = 0; i < total; ++i) {
      int32_t v = 0;
      std::memcpy(&v, blob.data() + i * sizeof v, sizeof v);
      if (v < 0) fail("trace {} is damaged (a negative expert count)", path_.string());
      c.counts[i] = v;
    }
  }
  return out;
}

std::string TraceReader::token_routing_unavailable(int64_t run) {
  const RunInfo info = run_info(run);
  if (info.routing_detail != RoutingDetail::kCounts) return {};
  return fmt::format(
      "run {} holds expert counts per step only ({} from {}), not each token's experts in order",
      run, info.source.format.empty() ? "counts" : info.source.format, info.source.path);
}

void TraceReader::scan_token_routing(int64_t run,
                                     const std::function<void(const TokenRouting&)>& visit) {
  const policy::MoeShape s = shape(run);
  Statement tok(*db_, fmt::format("SELECT pos, phase, token_id, {} FROM tokens WHERE run = ? AND "
                                  "forwarded = 1 ORDER BY pos",
                                  version_ >= 3 ? "request, step" : "0, chunk_first"));
  tok.bind(1, run);
  TokenRouting t;
  bool have = tok.step();
  for_each_routing(run, s, {}, [&](int32_t pos, const DecodedRouting& d) {
    while (have && tok.int64(0) < pos) have = tok.step();
    t.pos = pos;
    t.routing = &d;
    if (have && tok.int64(0) == pos) {
      const int64_t ph = tok.int64(1);
      if (ph != 0 && ph != 1)
        fail("trace {} is damaged: phase {} is neither prefill nor decode", path_.string(), ph);
      t.phase = Phase(ph);
      t.token_id = tok.int32(2);
      t.request = tok.int32(3);
      t.step = tok.is_null(4) ? -1 : tok.int32(4);
    } else {
      fail("trace {} is damaged: routing at position {} of run {} has no forwarded token",
           path_.string(), pos, run);
    }
    visit(t);
  });
}

std::vector<int32_t> TraceReader::token_requests(int64_t run) {
  check_run(run);
  std::vector<int32_t> out;
  if (version_ < 3) {
    out.assign(size_t(db_->query_int(
                   fmt::format("SELECT count(*) FROM tokens WHERE run = {} AND forwarded = 1", run))),
               0);
    return out;
  }
  Statement st(*db_, "SELECT request FROM tokens WHERE run = ? AND forwarded = 1 ORDER BY pos");
  st.bind(1, run);
  while (st.step()) out.push_back(st.int32(0));
  return out;
}

std::vector<int32_t> TraceReader::token_steps(int64_t run) {
  check_run(run);
  std::vector<int32_t> out;
  Statement st(*db_, fmt::format("SELECT {} FROM tokens WHERE run = ? AND forwarded = 1 ORDER BY "
                                 "pos",
                                 version_ >= 3 ? "step" : "NULL"));
  st.bind(1, run);
  while (st.step()) out.push_back(st.is_null(0) ? -1 : st.int32(0));
  return out;
}

}  // namespace moescope::storage
