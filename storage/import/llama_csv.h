#pragma once
// llama.cpp-style routing CSVs (docs/import.md): the rows an eval callback on the ffn_moe_topk
// tensors writes, one per routed activation, in evaluation order:
//   layer,expert[,token]              (ggml-org/llama.cpp#28544 examples/moe-trace)
//   phase,token,layer,rank,expert     (its fork variant with an offline cache simulator)
// A header row naming the columns is optional (column order then follows the header). Rows of one
// forward call come layer by layer; a call ends when the layer number goes down. Without a token
// column a layer's rows are its tokens' top-k in token order, so top-k must be given (--topk).
#include <filesystem>
#include <memory>

#include "storage/import/routing_file.h"

namespace moescope::storage::import {

std::unique_ptr<RoutingFile> open_llama_csv(const std::filesystem::path& path, int32_t topk);

}  // namespace moescope::storage::import
