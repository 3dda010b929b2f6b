#pragma once
// The records a trace holds, as the writer takes them and the reader returns them
// (docs/trace-format.md describes the tables they live in).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/ids.h"
#include "engine/policy/access_stream.h"
#include "engine/policy/capacity.h"
#include "engine/policy/moe_shape.h"
#include "engine/policy/routing_trace.h"
#include "engine/policy/simulator.h"

namespace moescope::storage {

using policy::Phase;

// A run stays "interrupted" until the writer finishes it cleanly: a killed recording shows as such.
enum class RunStatus : uint8_t { kInterrupted, kComplete };
std::string_view run_status_name(RunStatus status);

// The model a run used.
struct ModelDescription {
  std::string path;
  std::string sha256;  // lower-case hex of the file, or empty when not computed
  uint64_t file_bytes = 0;
  std::string architecture;    // general.architecture
  std::string name;            // general.name
  std::string quantization;    // JSON object: tensor type -> {"tensors": n, "bytes": b}
  int32_t n_model_layers = 0;  // blocks, dense ones included
  int32_t n_vocab = 0;
  std::string gating = "softmax";  // how router logits become probabilities (router_distribution)
  policy::MoeShape shape;          // routed experts of the MoE layers
};

// Where an imported run's routing came from (`moescope import`, docs/import.md). An empty format:
// the run was recorded by MoEScope from model.path.
struct ImportSource {
  std::string format;  // "sglang-pt", "sglang-pt-stat", "routed-experts-sglang", ...
  std::string path;    // the file as given
  std::string sha256;  // lower-case hex of the file
  uint64_t bytes = 0;
};

// How much routing a run holds: every token's experts, or only expert counts per step (an SGLang
// stat-mode dump): analyses that need the order of tokens cannot run on the latter.
enum class RoutingDetail : uint8_t { kTokens, kCounts };
std::string_view routing_detail_name(RoutingDetail detail);

struct RunInfo {
  std::string label;
  ModelDescription model;
  std::string settings_json = "{}";  // every engine, offload and sampling setting (run_info.h)
  uint64_t seed = 0;
  std::string machine_json;  // empty: the writer fills in machine_info_json()
  ImportSource source;       // empty format: recorded by MoEScope (model is the model file)
  RoutingDetail routing_detail = RoutingDetail::kTokens;
  bool imported() const { return !source.format.empty(); }

  // Filled by the writer / read back.
  int64_t id = 0;
  RunStatus status = RunStatus::kInterrupted;
  int64_t started_unix_ns = 0;
  int64_t ended_unix_ns = 0;  // 0 while recording or when interrupted
  std::string moescope_version;
  std::string summary_json;  // written at finish (finish_run's argument plus counts)
};

// What a token is to the tokenizer (tokens.kind; the tokenizer's token types, classified as
// storage/token_kind.h does). kNotRecorded: a schema-1 trace, or a writer caller that did not say.
enum class TokenKind : int8_t {
  kNotRecorded = -1,  // stored as NULL
  kNormal = 0,
  kBos = 1,
  kEos = 2,
  kEog = 3,      // another end-of-generation token (end of turn, ...)
  kControl = 4,  // any other control token
  kUnknown = 5,  // the unknown-token placeholder
};
std::string_view token_kind_name(TokenKind kind);
inline bool is_special(TokenKind kind) {
  return kind > TokenKind::kNormal;
}

// One position of the sequence: a prompt token or a generated one.
struct TokenRecord {
  int32_t pos = 0;
  int32_t token_id = -1;  // -1 when unknown
  std::string text;       // the text this token made visible (prompt: its piece)
  Phase phase = Phase::kDecode;
  bool forwarded = false;   // processed by a forward pass (has routing); the last sampled token
                            // of a generation is not
  int32_t chunk_first = 0;  // first position of the forward call that processed it
  int64_t start_ns = 0;     // that forward call, since the run started
  int64_t end_ns = 0;
  int64_t compute_ns = 0;  // a forward call's time minus stall, booked on its first token
  int64_t stall_ns = 0;    // time compute waited for expert loads, booked on its first token
  TokenKind kind = TokenKind::kNotRecorded;
  int32_t request = 0;  // the request (sequence) it belongs to; a recorded run has request 0
  int32_t step = -1;    // the forward call (batch) that processed it, from 0; -1 when not forwarded
};

// A request of a run: one sequence (prompt and generation). A recorded run holds request 0; an
// imported one a request per response, or per sequence of a batch dump.
struct RequestRecord {
  int32_t id = 0;
  bool has_prompt = false;  // whether the prompt text is known
  std::string prompt;
  std::string source_json = "{}";  // where it came from (file line, engine request id, ...)
  int32_t n_tokens = 0;            // filled by the reader: its token rows
};

// Expert counts of one step (forward pass) when a run holds no per-token routing
// (RoutingDetail::kCounts): counts[key_index(l, e)] routed token-expert pairs.
struct StepExpertCounts {
  int32_t step = 0;
  std::vector<int64_t> counts;  // [shape.total_experts()]
};

// What the next-gate prefetcher predicted for MoE layer `layer` of token `pos` before that layer
// ran (the engine's router probe on an earlier layer's hidden state), most likely first.
struct GatePrediction {
  int32_t pos = 0;
  MoeLayerId layer;  // the target MoE layer
  std::vector<ExpertId> experts;
  bool operator==(const GatePrediction&) const = default;
};

// Outcome of the access a routing entry made to the (primary) expert cache. In a prefill chunk
// the chunk's access to an expert is booked on the first token routed to it; the later tokens'
// entries stay kNone.
enum class AccessOutcome : uint8_t {
  kNone = 0,  // no cache recorded, or not an access of its own
  kHit = 1,
  kMiss = 2,         // demand load, admitted
  kBypass = 3,       // demand load, not admitted
  kPrefetchHit = 4,  // first use of a prefetched expert
  kLateHit = 5,      // ... that was still loading
};
std::string_view access_outcome_name(AccessOutcome outcome);
inline bool is_hit(AccessOutcome o) {
  return o == AccessOutcome::kHit || o == AccessOutcome::kPrefetchHit ||
         o == AccessOutcome::kLateHit;
}
inline bool is_miss(AccessOutcome o) {
  return o == AccessOutcome::kMiss || o == AccessOutcome::kBypass;
}

struct RoutingEntry {
  int32_t pos = 0;
  MoeLayerId layer;  // MoE layer
  int32_t rank = 0;
  ExpertId expert;
  float weight = 0;
  float logit = 0;  // the router's logit for this expert
  AccessOutcome cache = AccessOutcome::kNone;
};

enum class CacheEventKind : uint8_t {
  // Accesses: they set the routing entry's outcome (routing.cache) and are stored as event rows
  // only when they carry more (a wait, a time, unusual bytes); the reader gives them back.
  kHit = 1,
  kMiss = 2,
  kBypass = 3,
  kPrefetchIssued = 4,
  kPrefetchUsed = 5,
  kLate = 6,  // a prefetched expert accessed while still loading
  kWasted = 7,
  kEviction = 8,
};
std::string_view cache_event_kind_name(CacheEventKind kind);
// Kinds that are accesses of a routing entry (they set its outcome).
bool is_access_event(CacheEventKind kind);

// Something that happened to the (primary) expert cache.
struct CacheEvent {
  CacheEventKind kind = CacheEventKind::kMiss;
  int32_t pos = 0;   // token of the step (for accesses: the token whose entry it serves)
  MoeLayerId layer;  // MoE layer of the expert
  ExpertId expert;
  int64_t bytes = 0;    // loaded / wasted bytes
  int64_t wait_ns = 0;  // time compute waited for it
  int64_t t_ns = -1;    // since the run started, -1 when unknown
  bool operator==(const CacheEvent&) const = default;
};

// A cache policy of a run: the primary one drives the real cache, shadows are simulated on the
// same access stream. Enough to rebuild its simulator for replay.
struct PolicyDescription {
  int32_t id = 0;  // index within the run (assigned by the writer)
  bool primary = false;
  std::string spec = "lru";  // docs/policies-cli.md
  std::string prefetcher = "none";
  policy::CacheCapacity capacity;
  policy::TimingModel timing;
  // Modelled time used each layer's measured compute (the cache's compute times, stored with
  // TraceWriter::cache_compute_times) instead of the timing model's constants.
  bool measured_compute = false;
  // The names the CacheReport carries (written with the final report).
  std::string report_policy;
  std::string report_prefetcher;
  int64_t end_ns = -1;  // modelled end time, -1 until the final report
};

// A forward call as the observer saw it: routing of every token at every MoE layer, plus times.
// Arrays are [n_tokens][n_layers][k_max] with count[t][l] entries used.
struct ForwardRecord {
  int32_t first_pos = 0;
  int32_t n_tokens = 0;
  Phase phase = Phase::kDecode;
  int64_t start_ns = 0;  // since the run started
  int64_t end_ns = 0;
  int64_t stall_ns = 0;
  int32_t n_layers = 0;
  int32_t k_max = 0;
  std::vector<ExpertId> experts;
  std::vector<float> weights;
  std::vector<float> logits;       // the router logit of each selected expert
  std::vector<uint8_t> count;      // [n_tokens][n_layers]
  std::vector<float> full_logits;  // [n_tokens][total experts] or empty
  // Each token's router candidates (storage/router_candidates.h), or empty: [n_tokens][Σ m(l)].
  std::vector<ExpertId> candidates;
  std::vector<float> candidate_scores;
  std::vector<int64_t> layer_ns;        // [n_layers] compute of each layer in this call
  std::vector<int64_t> layer_stall_ns;  // [n_layers]
  // Next-gate predictions made during this call (targets within its tokens), or none.
  std::vector<GatePrediction> gate_predictions;
  // [n_tokens] the request of each token (a batch may mix requests), or empty: request 0.
  std::vector<int32_t> requests;
  int32_t step = -1;  // the call's step id; -1: the writer numbers calls 0, 1, 2, ...
  // False when the source has no router weights or logits (an import): the routing rows then
  // store empty weights and logits blobs, read back as equal weights 1/n and logits 0.
  bool weights_recorded = true;
};

}  // namespace moescope::storage
