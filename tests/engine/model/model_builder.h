#pragma once
// Builds variants of the reference models for tests: copy a GGUF file's metadata and tensors into
// a writer, with keys and tensors changed, dropped or added, then load the result from memory.
#include <functional>
#include <memory>
#include <string>

#include "engine/gguf/gguf_file.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/model/model.h"

namespace moescope::test {

struct CopyFilter {
  // Return false to drop a key / tensor.
  std::function<bool(const std::string& key)> keep_key = [](const std::string&) { return true; };
  std::function<bool(const gguf::TensorInfo& t)> keep_tensor = [](const gguf::TensorInfo&) {
    return true;
  };
};

gguf::GgufWriter copy_model(const gguf::GgufFile& src, const CopyFilter& filter = {});

gguf::GgufFile to_file(const gguf::GgufWriter& writer, const std::string& name = "test.gguf");

std::unique_ptr<Model> load_model(const gguf::GgufWriter& writer, ModelOptions options = {});

// The f32 values of a tensor (dequantized).
std::vector<float> tensor_values(const gguf::GgufFile& file, const std::string& name);

}  // namespace moescope::test
