#pragma once
// `moescope import`: routing recorded by another engine into a trace run without a model
// (docs/import.md). The file is read twice, streamed: first for its shape (layers, which are MoE
// layers, experts, top-k, and every id checked), then into the trace in batches, so memory stays
// bounded by one request (or one forward pass) however long the file is.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "engine/policy/moe_shape.h"

namespace moescope::storage::import {

enum class ImportFormat { kSglangPt, kRoutedExperts, kLlamaCsv };
// "sglang-pt", "routed-experts", "llama-csv"; throws moescope::Error for another name.
ImportFormat import_format_from_name(std::string_view name);

struct ImportOptions {
  ImportFormat format = ImportFormat::kRoutedExperts;
  std::filesystem::path in;
  std::filesystem::path trace;  // written directly: the caller makes it atomic
  int32_t layers = 0;           // 0: from the file. Layers of the source model (dense included)
  int32_t experts = 0;          // 0: from the file (its largest expert id + 1, or its map)
  int32_t topk = 0;             // 0: from the file (the most experts a token selects)
  uint64_t expert_bytes = 1;    // bytes of one expert (unknown without the model)
  std::string label;
  std::function<void(int64_t tokens)> progress;  // called now and then during the write pass
};

struct ImportResult {
  int64_t run = 0;
  std::string source_format;  // as recorded in the run
  int64_t tokens = 0;         // forwarded tokens (0 for counts only)
  int32_t requests = 0;
  int64_t steps = 0;
  int32_t source_layers = 0;  // layers of the source model
  policy::MoeShape shape;     // MoE layers only
  bool counts_only = false;
};

ImportResult import_routing(const ImportOptions& options);

}  // namespace moescope::storage::import
