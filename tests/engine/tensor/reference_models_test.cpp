// The reference models of ../shared/reference/models: every tensor dequantizes exactly as the
// independent spec decoder says, and the reference quantizers turn each F32 model's tensors into
// the bytes of its quantized siblings (same weights, quantized by llama.cpp's tools).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "engine/gguf/gguf_file.h"
#include "engine/tensor/dequantize.h"
#include "engine/tensor/quantize.h"
#include "tests/engine/tensor/spec_decoder.h"

namespace moescope {
namespace {

const std::filesystem::path kModels =
    std::filesystem::path(MOESCOPE_SHARED_DIR) / "reference/models";

std::vector<std::filesystem::path> reference_models() {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(kModels)) {
    if (entry.path().extension() == ".gguf") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::span<const uint8_t> bytes_of(const gguf::GgufFile& file, const gguf::TensorInfo& info) {
  const auto data = file.tensor_data(info);
  return {reinterpret_cast<const uint8_t*>(data.data()), data.size()};
}

TEST(ReferenceModels, EveryTensorDequantizesAsTheSpecSays) {
  const auto models = reference_models();
  ASSERT_GE(models.size(), 31u) << kModels;
  std::set<GgmlType> seen;
  size_t n_tensors = 0;
  for (const auto& path : models) {
    const auto file = gguf::GgufFile::open(path);
    for (const auto& info : file.tensors()) {
      SCOPED_TRACE(path.filename().string() + ": " + info.name);
      const auto bytes = bytes_of(file, info);
      const auto n = static_cast<int64_t>(info.n_elements);
      std::vector<float> ours(static_cast<size_t>(n));
      dequantize_row(info.type, bytes.data(), ours.data(), n);
      const auto spec = spec::decode_row(info.type, bytes);
      ASSERT_EQ(spec.size(), ours.size());
      // Weights are finite, so bit equality is the whole story.
      ASSERT_EQ(std::memcmp(spec.data(), ours.data(), ours.size() * sizeof(float)), 0);
      ASSERT_TRUE(std::all_of(ours.begin(), ours.end(), [](float v) { return std::isfinite(v); }));
      seen.insert(info.type);
      ++n_tensors;
    }
  }
  // The notes promise every weight type but Q5_1 among the reference models.
  for (const GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0,
                              GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q4_K,
                              GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::MXFP4}) {
    EXPECT_TRUE(seen.count(type)) << "no reference tensor of type " << ggml_type_name(type);
  }
  EXPECT_GT(n_tensors, 800u);
}

struct Pair {
  const char* f32;
  const char* quantized;
};

// Quantizing each tensor of the F32 model with the type its sibling stores gives the sibling's
// bytes exactly; tensors the sibling keeps in F32 are byte-identical copies.
void expect_quantizers_reproduce(const Pair& pair, std::set<GgmlType>* types) {
  SCOPED_TRACE(std::string(pair.f32) + " -> " + pair.quantized);
  const auto source = gguf::GgufFile::open(kModels / (std::string(pair.f32) + ".gguf"));
  const auto target = gguf::GgufFile::open(kModels / (std::string(pair.quantized) + ".gguf"));
  ASSERT_EQ(source.tensors().size(), target.tensors().size());
  size_t n_quantized = 0;
  for (const auto& info : target.tensors()) {
    SCOPED_TRACE(info.name + " " + std::string(ggml_type_name(info.type)));
    const auto* original = source.find_tensor(info.name);
    ASSERT_NE(original, nullptr);
    ASSERT_EQ(original->type, GgmlType::F32);
    ASSERT_EQ(original->ne, info.ne);
    const auto f32 = bytes_of(source, *original);
    std::vector<float> x(static_cast<size_t>(original->n_elements));
    std::memcpy(x.data(), f32.data(), f32.size());
    const auto expected = bytes_of(target, info);
    std::vector<uint8_t> ours(expected.size(), 0xcd);
    quantize_row(info.type, x.data(), ours.data(), static_cast<int64_t>(x.size()));
    size_t first_diff = 0;
    while (first_diff < ours.size() && ours[first_diff] == expected[first_diff]) ++first_diff;
    EXPECT_EQ(first_diff, ours.size())
        << "first differing byte " << first_diff << " of " << ours.size();
    if (info.type != GgmlType::F32) ++n_quantized;
    types->insert(info.type);
  }
  EXPECT_GT(n_quantized, 0u);
}

TEST(ReferenceModels, QuantizersReproduceTheQuantizedModels) {
  const Pair pairs[] = {
      {"llama-moe-f32", "llama-moe-q8_0"},
      {"llama-moe-tied-f32", "llama-moe-tied-q8_0"},
      {"llama-moe-k256-f32", "llama-moe-k256-f16"},
      {"llama-moe-k256-f32", "llama-moe-k256-bf16"},
      {"llama-moe-k256-f32", "llama-moe-k256-q8_0"},
      {"llama-moe-k256-f32", "llama-moe-k256-q4_0"},
      {"llama-moe-k256-f32", "llama-moe-k256-q4_1"},
      {"llama-moe-k256-f32", "llama-moe-k256-q5_0"},
      {"llama-moe-k256-f32", "llama-moe-k256-q4_k"},
      {"llama-moe-k256-f32", "llama-moe-k256-q5_k"},
      {"llama-moe-k256-f32", "llama-moe-k256-q6_k"},
      {"olmoe-f32", "olmoe-q8_0"},
      {"qwen2moe-f32", "qwen2moe-q8_0"},
      {"qwen3moe-f32", "qwen3moe-q8_0"},
      {"granitemoe-f32", "granitemoe-q8_0"},
      {"phimoe-f32", "phimoe-q8_0"},
      {"deepseek2-lite-f32", "deepseek2-lite-q8_0"},
      {"deepseek2-v3-f32", "deepseek2-v3-q8_0"},
      {"gpt-oss-f32", "gpt-oss-q8_0"},
      {"gpt-oss-f32", "gpt-oss-mxfp4"},
  };
  std::set<GgmlType> types;
  for (const auto& pair : pairs) expect_quantizers_reproduce(pair, &types);
  for (const GgmlType type :
       {GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1,
        GgmlType::Q5_0, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::MXFP4}) {
    EXPECT_TRUE(types.count(type)) << ggml_type_name(type);
  }
}

}  // namespace
}  // namespace moescope
