#pragma once
// What a run's metadata is made of: the model (path, SHA-256, architecture, quantization mix,
// routed-expert shape), the machine, and every setting as one JSON object.
#include <filesystem>
#include <string>
#include <string_view>

#include "storage/trace_types.h"

namespace moescope {
class Model;
struct ModelOptions;
struct GenerationOptions;
enum class GatingFunc;
namespace offload {
struct OffloadConfig;
}
}  // namespace moescope

namespace moescope::storage {

// Lower-case hex SHA-256 of a file. Throws moescope::Error naming the file.
std::string sha256_file(const std::filesystem::path& path);

// The model a run uses; with_hash computes the file's SHA-256 (reads the whole file).
ModelDescription describe_model(const Model& model, bool with_hash = true);

// {"hostname", "os", "cpu", "logical_cores", "memory_bytes", "simd", "moescope_version"}.
std::string machine_info_json();
std::string_view moescope_version();

// Every engine, generation and offload setting as one JSON object; `extra` (a JSON object, e.g.
// the CLI's other flags) is merged in at the top level. offload may be null (all resident).
std::string settings_json(const ModelOptions& model, const GenerationOptions& generation,
                          const offload::OffloadConfig* offload, std::string_view extra = "{}");

// The gating function named in a trace ("softmax", "sigmoid", ...); softmax when unknown.
GatingFunc gating_from_name(std::string_view name);

}  // namespace moescope::storage
