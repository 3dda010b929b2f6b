// The inspect summary against the reference models' sidecars, which list every tensor's shape and
// type and the hyper-parameters the models were generated with.
#include "engine/model/model_summary.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/tensor/ggml_type.h"

namespace moescope {
namespace {

namespace fs = std::filesystem;
const fs::path kModels = fs::path(MOESCOPE_SHARED_DIR) / "reference" / "models";

std::vector<fs::path> reference_models() {
  std::vector<fs::path> models;
  for (const auto& entry : fs::directory_iterator(kModels)) {
    if (entry.path().extension() == ".gguf" &&
        fs::exists(fs::path(entry.path()).replace_extension(".json"))) {
      models.push_back(entry.path());
    }
  }
  std::sort(models.begin(), models.end());
  return models;
}

GgmlType type_from_name(const std::string& name) {
  for (uint32_t id = 0; id < 64; ++id) {
    auto traits = ggml_type_traits(id);
    if (traits && traits->name == name) return traits->type;
  }
  throw std::runtime_error("unknown type " + name);
}

TEST(ModelSummary, MatchesEveryReferenceSidecar) {
  const auto models = reference_models();
  ASSERT_GE(models.size(), 25u);
  for (const auto& path : models) {
    SCOPED_TRACE(path.filename().string());
    std::ifstream sidecar_stream(fs::path(path).replace_extension(".json"));
    const auto sidecar = nlohmann::json::parse(sidecar_stream);
    const auto file = gguf::GgufFile::open(path);
    const ModelSummary s = summarize_model(file);

    EXPECT_EQ(s.architecture, sidecar["arch"].get<std::string>());
    EXPECT_TRUE(s.supported);
    EXPECT_EQ(s.n_layer, sidecar["n_layer"].get<int64_t>());
    EXPECT_EQ(s.n_embd, sidecar["n_embd"].get<int64_t>());
    EXPECT_EQ(s.n_head, sidecar["n_head"].get<int64_t>());
    EXPECT_EQ(s.n_expert, sidecar["n_expert"].get<int64_t>());
    EXPECT_EQ(s.n_expert_used, sidecar["n_expert_used"].get<int64_t>());
    // qwen2moe files have one shared expert without an expert_shared_count key.
    bool has_shared_tensors = false;
    for (const auto& [name, tensor] : sidecar["tensors"].items()) {
      has_shared_tensors |= name.find("_shexp.") != std::string::npos;
    }
    EXPECT_EQ(s.n_expert_shared, sidecar.value("n_expert_shared", has_shared_tensors ? 1 : 0));
    EXPECT_EQ(static_cast<int64_t>(s.dense_layers.size()), sidecar.value("n_layer_dense_lead", 0));
    EXPECT_EQ(s.n_vocab, sidecar["n_vocab"].get<int64_t>());
    EXPECT_EQ(s.tokenizer_model, "llama");

    // Parameter and byte counts recomputed from the sidecar's tensor list.
    uint64_t params = 0, expert_params = 0, expert_bytes = 0;
    std::map<std::string, int64_t> tensors_per_type;
    for (const auto& [name, tensor] : sidecar["tensors"].items()) {
      uint64_t n = 1;
      for (const auto& d : tensor["ne"]) n *= d.get<uint64_t>();
      params += n;
      const auto type = tensor["type"].get<std::string>();
      tensors_per_type[type] += 1;
      if (name.find("_exps.") != std::string::npos) {
        expert_params += n;
        expert_bytes += ggml_row_bytes(ggml_type_traits(type_from_name(type)), n);
      }
    }
    EXPECT_EQ(s.n_params, params);
    EXPECT_EQ(s.n_params_expert, expert_params);
    EXPECT_EQ(s.expert_bytes, expert_bytes);
    const int64_t moe_layers = s.n_layer - static_cast<int64_t>(s.dense_layers.size());
    ASSERT_EQ(static_cast<int64_t>(s.expert_bytes_per_layer.size()), moe_layers);
    EXPECT_EQ(s.expert_bytes_per_layer[0].bytes_per_expert * s.n_expert * moe_layers,
              expert_bytes);
    EXPECT_EQ(s.n_params_active,
              params - expert_params + expert_params / s.n_expert * s.n_expert_used);
    for (const auto& [type, count] : tensors_per_type) {
      EXPECT_EQ(s.type_histogram.at(type).tensors, count) << type;
    }
  }
}

TEST(ModelSummary, UnsupportedArchitectureIsReportedNotRejected) {
  // The tokenizer-only vocab files carry an architecture but no model; inspect still summarises.
  const auto vocab = fs::path(MOESCOPE_SHARED_DIR) / "reference" / "tokenizer" / "gpt-2";
  for (const auto& entry : fs::directory_iterator(vocab)) {
    if (entry.path().extension() != ".gguf") continue;
    const auto file = gguf::GgufFile::open(entry.path());
    const ModelSummary s = summarize_model(file);
    EXPECT_EQ(s.tokenizer_model, "gpt2");
    EXPECT_GT(s.n_vocab, 50000);
    EXPECT_EQ(s.n_params, 0u);
  }
}

}  // namespace
}  // namespace moescope
