#pragma once
// Internal to the trace writer: what producers hand to the writer thread.
#include <future>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "engine/policy/access_stream.h"
#include "engine/policy/cache_counters.h"
#include "engine/policy/simulator.h"
#include "storage/trace_types.h"

namespace moescope::storage::detail {

struct BeginRunMsg {
  RunInfo info;
  std::promise<int64_t> done;
  // The run's row is not committed on its own: it waits for the next flush (TraceWriter::
  // begin_run), which commits it with the prompt and policies that follow it.
  bool hold_until_flush = false;
};
struct PromptMsg {
  int32_t index = 0;
  int32_t first_pos = 0;
  std::string text;
  std::vector<int32_t> ids;
  std::vector<std::string> pieces;
  std::vector<TokenKind> kinds;  // [ids] or empty: not recorded
};
struct TokenMsg {
  int32_t pos = 0;
  int32_t id = -1;  // -1: append text
  std::string text;
  TokenKind kind = TokenKind::kNotRecorded;
  int32_t request = -1;  // -1: the run's last forwarded token's (a run of one request)
};
struct RequestMsg {
  RequestRecord request;
};
// One step's expert counts of a counts-only run.
struct StepCountsMsg {
  StepExpertCounts counts;
};
struct EventsMsg {
  std::vector<CacheEvent> events;
};
struct PolicyMsg {
  PolicyDescription desc;
  std::unique_ptr<policy::CacheSimulator> sim;  // null: counters come from the caller
  bool events = false;
  std::shared_ptr<const policy::AccessStream> future;  // kept alive for oracle policies
};
struct CountersMsg {
  int32_t policy = 0;
  int32_t first_pos = 0;
  std::vector<policy::CacheCounters> counters;
};
struct FinalReportMsg {
  int32_t policy = 0;
  policy::CacheReport report;  // phase, layer and names only (tokens come as CountersMsg)
  int64_t token_count = 0;     // report.token.size()
};
struct ComputeMsg {
  int32_t first_pos = 0;
  std::vector<int64_t> compute_ns;  // [tokens][MoE layers]
};
struct FinishMsg {
  std::string summary;
  bool complete = true;  // false: the run stays interrupted (abort_run)
  std::promise<void> done;
};
struct FlushMsg {
  std::promise<void> done;
};

using Message = std::variant<BeginRunMsg, PromptMsg, TokenMsg, ForwardRecord, EventsMsg, PolicyMsg,
                             CountersMsg, FinalReportMsg, ComputeMsg, FinishMsg, FlushMsg,
                             RequestMsg, StepCountsMsg>;

}  // namespace moescope::storage::detail
