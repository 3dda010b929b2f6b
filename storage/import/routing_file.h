#pragma once
// What every importer reads a routing file into: requests, then tokens in stream order, each with
// its experts at every layer of the source model ([n_layers][k], -1 = no expert in that slot: a
// dense layer or padding). Readers read the file from the start on each call, so the importer can
// make two passes (the shape first, then the rows) without holding the file in memory.
#include <cstdint>
#include <span>
#include <string>

#include "engine/policy/routing_trace.h"

namespace moescope::storage::import {

struct ImportedRequest {
  int32_t id = 0;
  bool has_prompt = false;
  std::string prompt;
  std::string source_json = "{}";  // where in the file (line, record, engine request id)
};

struct ImportedToken {
  int32_t request = 0;
  int32_t step = 0;  // forward pass (batch) it ran in
  policy::Phase phase = policy::Phase::kPrefill;
  int32_t token_id = -1;  // -1 when the file does not say
  int32_t n_layers = 0;   // layers of the source model (dense ones included)
  int32_t k = 0;          // slots per layer
  std::span<const int32_t> experts;  // [n_layers][k] logical expert ids, -1 = none
  std::string_view where;            // for messages: "line 3, token 17"
};

class RoutingVisitor {
 public:
  virtual ~RoutingVisitor() = default;
  virtual void request(const ImportedRequest& request) = 0;
  virtual void token(const ImportedToken& token) = 0;
};

class RoutingFile {
 public:
  virtual ~RoutingFile() = default;
  // The format as the trace records it ("routed-experts-sglang", ...); known after a pass.
  virtual std::string format() const = 0;
  // Reads the whole file from its start. Throws moescope::Error naming the file and the place for
  // anything malformed or truncated.
  virtual void read(RoutingVisitor& visitor) = 0;
};

}  // namespace moescope::storage::import
