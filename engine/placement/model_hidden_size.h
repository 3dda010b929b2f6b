#pragma once
// The hidden size (GGUF <arch>.embedding_length) of the model a trace was recorded with, which
// sets the size of a token's all-to-all message. A trace names its model file but does not store
// the hidden size; the file may be gone or changed, so a missing answer is normal.
#include <cstdint>
#include <filesystem>
#include <optional>

namespace moescope::placement {

// nullopt unless `path` is a regular, readable GGUF file with that key; never throws.
std::optional<int64_t> model_hidden_size(const std::filesystem::path& path);

}  // namespace moescope::placement
