#pragma once
// SGLang's expert distribution recorder dumps (python/sglang/srt/eplb/expert_distribution.py,
// written with torch.save; docs/import.md):
//   per_token (and per_pass) mode: {"records": [{forward_pass_id, rank, gatherer_key, input_ids,
//     positions, extend_seq_lens, forward_mode, topk_ids_of_layer int32 [layers][tokens][8] (-1
//     padded, PHYSICAL expert ids), misc_objects, global_physical_count}, ...],
//     "last_physical_to_logical_map": [layers][physical experts]}
//   stat mode: {"rank", "logical_count": int32 [steps][layers][logical experts],
//     "average_utilization_rate_over_window"}
// Per-token ids are mapped back to logical experts through the recorded map. SGLang records no
// request ids: sequences are rebuilt from extend_seq_lens and positions (a sequence starting at
// position 0 is a new request; a decode token continues the request whose next position it is).
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "storage/import/routing_file.h"

namespace moescope::storage::import {

// A stat-mode dump's counts.
struct SglangStatDump {
  int64_t n_steps = 0;
  int32_t n_layers = 0, n_experts = 0;
  std::vector<int32_t> counts;  // [steps][layers][experts]
  int64_t count(int64_t s, int32_t l, int32_t e) const {
    return counts[(size_t(s) * size_t(n_layers) + size_t(l)) * size_t(n_experts) + size_t(e)];
  }
};

struct SglangDump {
  std::optional<SglangStatDump> stat;  // a stat-mode dump
  std::unique_ptr<RoutingFile> per_token;  // else a per-token dump
};

// Opens and checks the dump (ZIP directory, pickle, shapes). Throws moescope::Error naming the
// file when it is not a torch.save file, is truncated, or is not an expert distribution dump (a
// per_pass dump, which has counts per pass but no tokens, is refused with a hint).
SglangDump open_sglang_dump(const std::filesystem::path& path);

}  // namespace moescope::storage::import
