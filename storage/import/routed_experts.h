#pragma once
// The per-request routing SGLang and vLLM return with each response when asked
// (--enable-return-routed-experts), one JSON response per line (docs/import.md):
//   SGLang: meta_info.routed_experts (or sglext.routed_experts) = base64 of raw little-endian
//           int32, token-major [tokens][layers][top_k], -1 for non-MoE layers; the shape is not in
//           the file (layers and top_k come from flags, or from meta_info's token counts).
//   vLLM:   choices[i].routed_experts = base64 of a .npy buffer (int16 or int32, [tokens][layers]
//           [top_k]), or {"data": base64, "shape": [...], "dtype": "int32"}.
// Each response (each choice of a vLLM response) is one request.
#include <filesystem>
#include <memory>

#include "storage/import/routing_file.h"

namespace moescope::storage::import {

std::unique_ptr<RoutingFile> open_routed_experts(const std::filesystem::path& path, int32_t layers,
                                                 int32_t topk);

}  // namespace moescope::storage::import
