#include "tests/engine/model/model_builder.h"

#include <cstring>

#include "engine/tensor/dequantize.h"

namespace moescope::test {

gguf::GgufWriter copy_model(const gguf::GgufFile& src, const CopyFilter& filter) {
  gguf::GgufWriter writer;
  for (const auto& entry : src.metadata()) {
    if (entry.key == "general.alignment") continue;
    if (filter.keep_key(entry.key)) writer.set(entry.key, entry.value);
  }
  for (const auto& t : src.tensors()) {
    if (!filter.keep_tensor(t)) continue;
    const auto bytes = src.tensor_data(t);
    writer.add_tensor(t.name, t.type, t.ne, std::vector<std::byte>(bytes.begin(), bytes.end()));
  }
  return writer;
}

gguf::GgufFile to_file(const gguf::GgufWriter& writer, const std::string& name) {
  const auto bytes = writer.to_bytes();
  return gguf::GgufFile::open_memory(bytes, name);
}

std::unique_ptr<Model> load_model(const gguf::GgufWriter& writer, ModelOptions options) {
  if (options.n_threads == 0) options.n_threads = 2;
  return Model::load(to_file(writer), options);
}

std::vector<float> tensor_values(const gguf::GgufFile& file, const std::string& name) {
  const gguf::TensorInfo* t = file.find_tensor(name);
  if (t == nullptr) throw std::runtime_error("no tensor " + name);
  std::vector<float> out(t->n_elements);
  dequantize_row(t->type, file.tensor_data(*t).data(), out.data(),
                 static_cast<int64_t>(t->n_elements));
  return out;
}

}  // namespace moescope::test
