#pragma once
// What a front end asks the session pipeline (generation_session.h) to generate, and what it gets
// back per request. GenerationSession::run takes one request, run_batch many, each named by its
// id in every event and result.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/model/generator.h"

namespace moescope::storage {

struct GenerationRequest {
  int64_t id = 0;             // the caller's name for it, echoed in every event and its result
  std::string prompt;         // the text, a chat template already applied
  bool parse_special = true;  // special tokens written in the text are parsed (as llama-cli)
  GenerationOptions options;
  // A batched run's trace keeps it with the request: where it came from (a JSON object, e.g. the
  // workload file's line).
  std::string source_json = "{}";
};

// A prompt as the pipeline tokenized it: the ids, the text each makes visible (complete
// characters only, like the generated text), and the text held back until the prompt's end.
struct PromptText {
  std::vector<int32_t> ids;
  std::vector<std::string> pieces;  // [ids]
  std::string tail;
  // The pieces with the tail added to the last one (what the trace stores).
  std::vector<std::string> closed_pieces() const;
};

struct RequestResult {
  int64_t id = 0;
  PromptText prompt;
  GenerationResult generation;
  bool cancelled() const { return generation.stats.stop_reason == StopReason::kCancelled; }
};

}  // namespace moescope::storage
