// The built-in model (resources/models/moescope-default-q8_0.gguf) is a GGUF file llama.cpp can
// load, read with the project's own GGUF reader: it has every metadata key, with the same value
// types, and exactly the tensors (names, shapes, types) of llama.cpp's qwen2moe layout. The
// oracle is the reference qwen2moe file in ../shared, written by gguf-py and run by llama.cpp:
// the expected shapes below (llama.cpp's qwen2moe tensor list, in terms of the hyper-parameters)
// are first checked on it, then on the built-in model with the built-in model's own
// hyper-parameters. Also the floor issue #17 sets for the built-in model (context, experts,
// layers, file size): none of these numbers is the model's, every one is a requirement.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/gguf/gguf_file.h"

namespace moescope::gguf {
namespace {

namespace fs = std::filesystem;

const fs::path kDefaultModel =
    fs::path(MOESCOPE_SOURCE_DIR) / "resources" / "models" / "moescope-default-q8_0.gguf";
const fs::path kReference =
    fs::path(MOESCOPE_SHARED_DIR) / "reference" / "models" / "qwen2moe-q8_0.gguf";

int64_t key(const GgufFile& f, const std::string& name) {
  const std::string arch = f.get_string("general.architecture").value_or("");
  const auto v = f.get_int(arch + "." + name);
  if (!v) ADD_FAILURE() << f.path() << ": no " << arch << "." << name;
  return v.value_or(-1);
}

struct Expected {
  std::vector<int64_t> ne;
  GgmlType type;
};

// llama.cpp's qwen2moe tensors (llama-model.cpp, LLM_ARCH_QWEN2MOE) with the ne of each, and the
// types llama-quantize gives a mostly-Q8_0 file: matrices Q8_0; norms, biases, the router and the
// shared expert's gate vector F32.
std::map<std::string, Expected> qwen2moe_tensors(const GgufFile& f) {
  const int64_t n_embd = key(f, "embedding_length");
  const int64_t n_head = key(f, "attention.head_count");
  const int64_t n_embd_gqa = n_embd / n_head * key(f, "attention.head_count_kv");
  const auto n_vocab = int64_t(f.get_array("tokenizer.ggml.tokens")->size());
  const int64_t n_expert = key(f, "expert_count");
  const int64_t n_ff_exp = key(f, "expert_feed_forward_length");
  const int64_t n_ff_shexp = key(f, "expert_shared_feed_forward_length");
  constexpr GgmlType q = GgmlType::Q8_0, f32 = GgmlType::F32;
  std::map<std::string, Expected> out{{"token_embd.weight", {{n_embd, n_vocab}, q}},
                                      {"output_norm.weight", {{n_embd}, f32}},
                                      {"output.weight", {{n_embd, n_vocab}, q}}};
  for (int64_t b = 0; b < key(f, "block_count"); ++b) {
    const std::string p = "blk." + std::to_string(b) + ".";
    const std::map<std::string, Expected> block{
        {"attn_norm.weight", {{n_embd}, f32}},
        {"attn_q.weight", {{n_embd, n_embd}, q}},
        {"attn_k.weight", {{n_embd, n_embd_gqa}, q}},
        {"attn_v.weight", {{n_embd, n_embd_gqa}, q}},
        {"attn_output.weight", {{n_embd, n_embd}, q}},
        {"attn_q.bias", {{n_embd}, f32}},
        {"attn_k.bias", {{n_embd_gqa}, f32}},
        {"attn_v.bias", {{n_embd_gqa}, f32}},
        {"ffn_norm.weight", {{n_embd}, f32}},
        {"ffn_gate_inp.weight", {{n_embd, n_expert}, f32}},
        {"ffn_gate_exps.weight", {{n_embd, n_ff_exp, n_expert}, q}},
        {"ffn_up_exps.weight", {{n_embd, n_ff_exp, n_expert}, q}},
        {"ffn_down_exps.weight", {{n_ff_exp, n_embd, n_expert}, q}},
        {"ffn_gate_inp_shexp.weight", {{n_embd}, f32}},
        {"ffn_gate_shexp.weight", {{n_embd, n_ff_shexp}, q}},
        {"ffn_up_shexp.weight", {{n_embd, n_ff_shexp}, q}},
        {"ffn_down_shexp.weight", {{n_ff_shexp, n_embd}, q}},
    };
    for (const auto& [name, e] : block) out.emplace(p + name, e);
  }
  return out;
}

void expect_tensors(const GgufFile& f) {
  const std::map<std::string, Expected> want = qwen2moe_tensors(f);
  std::set<std::string> seen;
  for (const TensorInfo& t : f.tensors()) {
    SCOPED_TRACE(f.path().string() + ": " + t.name);
    seen.insert(t.name);
    const auto it = want.find(t.name);
    if (it == want.end()) {
      ADD_FAILURE() << "a tensor llama.cpp's qwen2moe does not load";
      continue;
    }
    EXPECT_EQ(t.ne, it->second.ne);
    EXPECT_EQ(ggml_type_name(t.type), ggml_type_name(it->second.type));
  }
  for (const auto& [name, e] : want) EXPECT_TRUE(seen.count(name)) << f.path() << ": no " << name;
}

TEST(DefaultModelFile, TheQwen2moeTensorListHoldsForLlamaCppsOwnFile) {
  const GgufFile reference = GgufFile::open(kReference);
  ASSERT_EQ(reference.get_string("general.architecture"), "qwen2moe");
  expect_tensors(reference);
}

TEST(DefaultModelFile, HasExactlyTheTensorsOfLlamaCppsQwen2moe) {
  const GgufFile model = GgufFile::open(kDefaultModel);
  ASSERT_EQ(model.get_string("general.architecture"), "qwen2moe");
  expect_tensors(model);
}

// llama.cpp reads each key with a typed getter that rejects another type, so the built-in model
// must store every key of the reference file with the same type (arrays: the same element type).
TEST(DefaultModelFile, HasEveryMetadataKeyOfLlamaCppsQwen2moeWithItsType) {
  const GgufFile reference = GgufFile::open(kReference);
  const GgufFile model = GgufFile::open(kDefaultModel);
  for (const MetadataEntry& e : reference.metadata()) {
    SCOPED_TRACE(e.key);
    const Value* v = model.find(e.key);
    ASSERT_NE(v, nullptr) << "missing in the built-in model";
    EXPECT_EQ(value_type_name(v->type()), value_type_name(e.value.type()));
    if (e.value.type() == ValueType::Array) {
      EXPECT_EQ(value_type_name(v->as_array().element_type),
                value_type_name(e.value.as_array().element_type));
    }
  }
  // The tokenizer arrays cover the vocabulary, and the special ids are the same pieces as in the
  // reference tokenizer (SentencePiece layout: <unk> 0, <s> 1, </s> 2).
  const size_t n_vocab = size_t(key(model, "vocab_size"));
  for (const char* array :
       {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
    EXPECT_EQ(model.get_array(array)->size(), n_vocab) << array;
  }
  for (const char* id : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                         "tokenizer.ggml.unknown_token_id"}) {
    EXPECT_EQ(model.get_int(id), reference.get_int(id)) << id;
  }
  EXPECT_EQ(model.get_int("general.file_type"), 7);  // LLAMA_FTYPE_MOSTLY_Q8_0
}

// Issue #17's floor for the built-in model: a long context, many fine-grained experts with a
// shared one, enough layers, and a file small enough to ship.
TEST(DefaultModelFile, MeetsTheBuiltInModelRequirements) {
  const GgufFile model = GgufFile::open(kDefaultModel);
  EXPECT_GE(key(model, "context_length"), 2048);
  EXPECT_GE(key(model, "expert_count"), 32);
  EXPECT_GE(key(model, "expert_used_count"), 4);
  EXPECT_GT(key(model, "expert_shared_feed_forward_length"), 0);
  EXPECT_GE(key(model, "block_count"), 8);
  EXPECT_LE(model.file_size(), 48u * 1000u * 1000u);
}

}  // namespace
}  // namespace moescope::gguf
