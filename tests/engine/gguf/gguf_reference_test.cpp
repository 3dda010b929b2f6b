// Every reference model and vocabulary opens, and what the reader reports matches the facts in the
// JSON sidecars written by the generator of those files; re-writing a file reproduces it byte for
// byte (the reference files were written by gguf-py, an independent writer).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/common/error.h"
#include "engine/gguf/gguf_file.h"
#include "engine/gguf/gguf_writer.h"
#include "tests/engine/gguf/gguf_test_util.h"

namespace moescope::gguf {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const fs::path kReference = fs::path(MOESCOPE_SHARED_DIR) / "reference";

std::vector<fs::path> gguf_files_under(const fs::path& dir, bool recursive) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  auto add = [&files](const fs::directory_entry& e) {
    if (e.is_regular_file() && e.path().extension() == ".gguf") files.push_back(e.path());
  };
  if (recursive) {
    for (const auto& e : fs::recursive_directory_iterator(dir)) add(e);
  } else {
    for (const auto& e : fs::directory_iterator(dir)) add(e);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<fs::path> model_files() {
  return gguf_files_under(kReference / "models", false);
}
std::vector<fs::path> vocab_files() {
  return gguf_files_under(kReference / "tokenizer", true);
}

std::string test_name(const testing::TestParamInfo<fs::path>& info) {
  std::string name = info.param.stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

uint64_t align_up(uint64_t n, uint64_t a) {
  return (n + a - 1) / a * a;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

TEST(GgufReference, AllReferenceFilesArePresent) {
  // reference/README.md: 31 models, 12 vocabularies.
  EXPECT_EQ(model_files().size(), 31u);
  EXPECT_EQ(vocab_files().size(), 12u);
}

class ModelFile : public testing::TestWithParam<fs::path> {};

TEST_P(ModelFile, TensorsAreLaidOutBackToBackAsGgmlWritesThem) {
  const GgufFile file = GgufFile::open(GetParam());
  EXPECT_EQ(file.path(), GetParam());
  EXPECT_EQ(file.file_size(), fs::file_size(GetParam()));
  EXPECT_EQ(file.alignment(), kDefaultAlignment);
  EXPECT_EQ(file.data_offset() % file.alignment(), 0u);
  ASSERT_FALSE(file.tensors().empty());
  // ggml/gguf-py write each tensor at the next aligned offset after the previous one and pad the
  // last: so every computed byte size (block geometry of every type) must tile the file exactly.
  uint64_t expected_offset = 0;
  for (const TensorInfo& t : file.tensors()) {
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.offset, expected_offset);
    expected_offset = align_up(t.offset + t.n_bytes, file.alignment());
    uint64_t n = 1;
    for (int64_t d : t.ne) n *= static_cast<uint64_t>(d);
    EXPECT_EQ(t.n_elements, n);
    const auto data = file.tensor_data(t);
    EXPECT_EQ(data.size(), t.n_bytes);
    EXPECT_EQ(file.find_tensor(t.name), &t);
  }
  EXPECT_EQ(file.data_offset() + expected_offset, file.file_size());

  // pread through fd() at tensor_file_offset() sees the same bytes as the mapping.
  const TensorInfo& last = file.tensors().back();
  std::vector<std::byte> head(std::min<uint64_t>(last.n_bytes, 64));
  ASSERT_EQ(::pread(file.fd(), head.data(), head.size(),
                    static_cast<off_t>(file.tensor_file_offset(last))),
            static_cast<ssize_t>(head.size()));
  EXPECT_TRUE(std::equal(head.begin(), head.end(), file.tensor_data(last).begin()));
}

TEST_P(ModelFile, MatchesItsSidecar) {
  const GgufFile file = GgufFile::open(GetParam());
  fs::path sidecar_path = fs::path(GetParam()).replace_extension(".json");
  std::string type_override;  // the K-quant files have no sidecar: use their Q8_0 sibling's
  if (!fs::exists(sidecar_path)) {
    const std::string stem = GetParam().stem().string();
    type_override = upper(stem.substr(stem.rfind('-') + 1));
    sidecar_path = GetParam().parent_path() / (stem.substr(0, stem.rfind('-')) + "-q8_0.json");
  }
  ASSERT_TRUE(fs::exists(sidecar_path)) << sidecar_path;
  const Json sidecar = Json::parse(test::read_text(sidecar_path));

  const std::string arch = sidecar.at("arch").get<std::string>();
  EXPECT_EQ(file.get_string("general.architecture"), arch);
  EXPECT_EQ(file.get_int(arch + ".embedding_length"), sidecar.at("n_embd").get<int64_t>());
  EXPECT_EQ(file.get_int(arch + ".block_count"), sidecar.at("n_layer").get<int64_t>());
  EXPECT_EQ(file.get_int(arch + ".expert_count"), sidecar.at("n_expert").get<int64_t>());
  EXPECT_EQ(file.get_int(arch + ".expert_used_count"), sidecar.at("n_expert_used").get<int64_t>());
  EXPECT_EQ(file.get_int(arch + ".attention.head_count"), sidecar.at("n_head").get<int64_t>());
  EXPECT_EQ(file.get_int(arch + ".attention.head_count_kv"),
            sidecar.at("n_head_kv").get<int64_t>());
  EXPECT_FLOAT_EQ(*file.get_float(arch + ".rope.freq_base"), sidecar.at("rope_base").get<double>());
  const ArrayValue* tokens = file.get_array("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->element_type, ValueType::String);
  EXPECT_EQ(static_cast<int64_t>(tokens->size()), sidecar.at("n_vocab").get<int64_t>());

  const Json& expected = sidecar.at("tensors");
  ASSERT_TRUE(expected.is_object());
  EXPECT_EQ(file.tensors().size(), expected.size());
  for (const auto& [name, facts] : expected.items()) {
    SCOPED_TRACE(name);
    const TensorInfo* t = file.find_tensor(name);
    ASSERT_NE(t, nullptr);
    std::vector<int64_t> ne;
    for (const Json& d : facts.at("ne")) ne.push_back(d.get<int64_t>());
    EXPECT_EQ(t->ne, ne);
    std::string type = facts.at("type").get<std::string>();
    if (!type_override.empty() && type == "Q8_0") type = type_override;
    EXPECT_EQ(ggml_type_name(t->type), type);
  }
}

// Copying every key and tensor through GgufWriter gives back the file gguf-py wrote.
TEST_P(ModelFile, RewriteIsByteIdentical) {
  const GgufFile file = GgufFile::open(GetParam());
  GgufWriter writer;
  writer.set_version(file.version());
  for (const auto& entry : file.metadata()) writer.set(entry.key, entry.value);
  for (const auto& t : file.tensors()) {
    const auto data = file.tensor_data(t);
    writer.add_tensor(t.name, t.type, t.ne, [data](std::span<std::byte> out) {
      std::copy(data.begin(), data.end(), out.begin());
    });
  }
  const std::vector<std::byte> rewritten = writer.to_bytes();
  const std::vector<std::byte> original = test::read_bytes(GetParam());
  ASSERT_EQ(rewritten.size(), original.size());
  EXPECT_TRUE(rewritten == original);
}

INSTANTIATE_TEST_SUITE_P(Reference, ModelFile, testing::ValuesIn(model_files()), test_name);

class VocabFile : public testing::TestWithParam<fs::path> {};

TEST_P(VocabFile, OpensAndHoldsTheIdsLlamaCppProduced) {
  const GgufFile file = GgufFile::open(GetParam());
  EXPECT_TRUE(file.tensors().empty());
  EXPECT_FALSE(file.get_string("tokenizer.ggml.model").value_or("").empty());
  const ArrayValue* tokens = file.get_array("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  ASSERT_EQ(tokens->element_type, ValueType::String);
  const int64_t n_vocab = static_cast<int64_t>(tokens->size());
  EXPECT_GT(n_vocab, 0);
  for (const char* key : {"tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
    if (const ArrayValue* a = file.get_array(key)) {
      EXPECT_EQ(a->size(), tokens->size()) << key;
    }
  }
  for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"}) {
    if (auto id = file.get_int(key)) {
      EXPECT_LT(*id, n_vocab) << key;
    }
  }
  if (const ArrayValue* merges = file.get_array("tokenizer.ggml.merges")) {
    // BPE merges are "left right" pairs.
    for (const auto& m : std::get<std::vector<std::string>>(merges->items)) {
      ASSERT_NE(m.find(' '), std::string::npos) << m;
    }
  }

  // Every id llama-tokenize produced with this vocabulary exists in it.
  const fs::path ids_path =
      kReference / "tokenizer" / (GetParam().parent_path().filename().string() + ".json");
  ASSERT_TRUE(fs::exists(ids_path)) << ids_path;
  const Json cases = Json::parse(test::read_text(ids_path));
  ASSERT_TRUE(cases.is_array());
  size_t n_ids = 0;
  for (const Json& c : cases) {
    for (const char* field : {"ids_bos", "ids_nobos"}) {
      for (const Json& id : c.at(field)) {
        EXPECT_GE(id.get<int64_t>(), 0);
        EXPECT_LT(id.get<int64_t>(), n_vocab);
        ++n_ids;
      }
    }
  }
  EXPECT_GT(n_ids, 0u);
}

// Vocabulary files end right after the tensor infos (no padding): the rewrite equals the file
// followed by the padding the writer adds.
TEST_P(VocabFile, RewriteIsByteIdenticalUpToTrailingPadding) {
  const GgufFile file = GgufFile::open(GetParam());
  GgufWriter writer;
  writer.set_version(file.version());
  for (const auto& entry : file.metadata()) writer.set(entry.key, entry.value);
  const std::vector<std::byte> rewritten = writer.to_bytes();
  const std::vector<std::byte> original = test::read_bytes(GetParam());
  ASSERT_GE(rewritten.size(), original.size());
  EXPECT_LT(rewritten.size() - original.size(), file.alignment());
  EXPECT_TRUE(std::equal(original.begin(), original.end(), rewritten.begin()));
  EXPECT_TRUE(std::all_of(rewritten.begin() + static_cast<ptrdiff_t>(original.size()),
                          rewritten.end(), [](std::byte b) { return b == std::byte{0}; }));
}

INSTANTIATE_TEST_SUITE_P(Reference, VocabFile, testing::ValuesIn(vocab_files()), test_name);

}  // namespace
}  // namespace moescope::gguf
