#include "views/batch/batch_trace_loading.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <map>
#include <set>

#include "storage/trace_reader.h"
#include "views/batch/step_accumulator.h"

namespace moescope::views {
namespace {

QJsonObject parse_object(const std::string& json) {
  return QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
}

// How many of a request's tokens are its prompt when the summary does not say (an interrupted
// run): the prompt's pieces put together give back its text.
int prompt_tokens_by_text(const std::vector<const storage::TokenRecord*>& tokens,
                          const std::string& prompt) {
  size_t length = 0;
  int n = 0;
  while (size_t(n) < tokens.size() && length < prompt.size()) {
    length += tokens[size_t(n)]->text.size();
    ++n;
  }
  return n;
}

std::vector<BatchRequest> read_requests(storage::TraceReader& reader, int64_t run,
                                        const QJsonObject& summary) {
  std::map<int64_t, QJsonObject> outcome;
  for (const QJsonValue& v : summary.value("requests").toArray())
    outcome[v.toObject().value("id").toInteger()] = v.toObject();
  std::map<int32_t, std::vector<const storage::TokenRecord*>> by_request;
  const std::vector<storage::TokenRecord> tokens = reader.tokens(run);  // position order
  for (const storage::TokenRecord& t : tokens) by_request[t.request].push_back(&t);

  std::vector<BatchRequest> out;
  for (const storage::RequestRecord& q : reader.requests(run)) {
    BatchRequest r;
    r.id = q.id;
    r.prompt = QString::fromStdString(q.prompt);
    const std::vector<const storage::TokenRecord*>& mine = by_request[q.id];
    const auto o = outcome.find(q.id);
    const bool known = o != outcome.end();
    r.prompt_tokens =
        known ? o->second.value("prompt_tokens").toInt() : prompt_tokens_by_text(mine, q.prompt);
    std::string generated;
    for (size_t i = size_t(r.prompt_tokens); i < mine.size(); ++i) generated += mine[i]->text;
    r.generated = QString::fromStdString(generated);
    r.generated_tokens = int(mine.size()) - std::min<int>(r.prompt_tokens, int(mine.size()));
    if (known) {
      const bool finished = o->second.value("finished").toBool();
      r.state = finished ? RequestState::kFinished : RequestState::kStopped;
      if (finished) r.stop_reason = o->second.value("stop_reason").toString();
      r.generated_tokens = o->second.value("generated_tokens").toInt(r.generated_tokens);
      r.ttft_ms = r.generated_tokens > 0 ? o->second.value("ttft_ms").toDouble(-1) : -1;
      r.tpot_ms = r.generated_tokens >= 2 ? o->second.value("tpot_ms").toDouble(-1) : -1;
    } else {
      r.state = RequestState::kStopped;  // the run was interrupted
    }
    out.push_back(std::move(r));
  }
  return out;
}

// The bytes the primary cache loaded at each position, or empty without a cache.
std::vector<int64_t> primary_bytes(storage::TraceReader& reader, int64_t run) {
  for (const storage::PolicyDescription& p : reader.policies(run)) {
    if (!p.primary) continue;
    std::vector<int64_t> out;
    for (const policy::CacheCounters& c : reader.policy_tokens(run, p.id))
      out.push_back(c.bytes_loaded);
    return out;
  }
  return {};
}

std::vector<BatchStep> read_steps(storage::TraceReader& reader, int64_t run,
                                  const policy::MoeShape& shape) {
  const policy::RoutingTrace trace = reader.routing_trace(run);
  const std::vector<int32_t> steps = reader.token_steps(run);
  const std::vector<int32_t> requests = reader.token_requests(run);
  const std::vector<storage::TokenRecord> tokens =
      reader.tokens(run, {0, int32_t(trace.n_tokens())});
  const std::vector<int64_t> bytes = primary_bytes(reader, run);
  std::vector<BatchStep> out;
  StepAccumulator acc(shape);
  std::set<int32_t> in_step;
  int64_t step_bytes = 0;
  auto close = [&] {
    BatchStep s = acc.end();
    s.requests = int(in_step.size());
    s.bytes = bytes.empty() ? -1 : step_bytes;
    out.push_back(std::move(s));
  };
  for (int64_t t = 0; t < trace.n_tokens(); ++t) {
    const bool first = t == 0 || steps[size_t(t)] != steps[size_t(t) - 1];
    if (first) {
      if (t > 0) close();
      int rows = 0;
      while (t + rows < trace.n_tokens() && steps[size_t(t + rows)] == steps[size_t(t)]) ++rows;
      acc.begin(steps[size_t(t)], rows);
      in_step.clear();
      step_bytes = 0;
    }
    in_step.insert(requests[size_t(t)]);
    if (size_t(t) < bytes.size()) step_bytes += bytes[size_t(t)];
    for (int32_t l = 0; l < trace.n_layers(); ++l)
      acc.add(l, trace.experts(TokenPos(int32_t(t)), MoeLayerId(l)));
  }
  if (trace.n_tokens() > 0) close();
  // Each step's wall time: its forward call's, booked on its tokens.
  size_t s = 0;
  for (int64_t t = 0; t < trace.n_tokens() && s < out.size(); ++t) {
    if (t > 0 && steps[size_t(t)] == steps[size_t(t) - 1]) continue;
    if (size_t(t) < tokens.size() && tokens[size_t(t)].forwarded)
      out[s].ms = double(tokens[size_t(t)].end_ns - tokens[size_t(t)].start_ns) / 1e6;
    ++s;
  }
  return out;
}

}  // namespace

std::optional<BatchRun> load_batch_run(const std::filesystem::path& path, int64_t run) {
  storage::TraceReader reader(path);
  if (run < 0) run = reader.latest_run();
  reader.check_run(run);
  const storage::RunInfo info = reader.run_info(run);
  const QJsonObject summary = parse_object(info.summary_json);
  const QJsonObject batch = parse_object(info.settings_json).value("batch").toObject();
  const std::vector<storage::RequestRecord> requests = reader.requests(run);
  if (!summary.value("batched").toBool() && batch.isEmpty() && requests.size() <= 1) {
    return std::nullopt;
  }
  BatchRun out;
  out.scheduler = batch.value("scheduler").toString();
  out.shape = reader.shape(run);
  out.requests = read_requests(reader, run, summary);
  out.steps = read_steps(reader, run, out.shape);
  out.total_ms = summary.value("total_ms").toDouble(0);
  out.complete = info.status == storage::RunStatus::kComplete;
  return out;
}

}  // namespace moescope::views
