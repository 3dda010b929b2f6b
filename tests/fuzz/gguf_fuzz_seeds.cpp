// Writes a small seed corpus for gguf_fuzz: valid GGUF files, a few hundred bytes to a few KB,
// that together use every value type, nested arrays, several tensor types, both versions and
// non-default alignments. Usage: gguf_fuzz_seeds OUTPUT_DIR
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/gguf/gguf_writer.h"

namespace {

using namespace moescope;
using namespace moescope::gguf;

std::vector<std::byte> filled(size_t n, int seed) {
  std::vector<std::byte> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>((i * 31 + seed * 7) & 0xff);
  return out;
}

void add_tensor(GgufWriter& w, const std::string& name, GgmlType type, std::vector<int64_t> ne) {
  const GgmlTypeTraits& t = ggml_type_traits(type);
  uint64_t n = 1;
  for (int64_t d : ne) n *= static_cast<uint64_t>(d);
  w.add_tensor(name, type, std::move(ne), filled(n / t.block_size * t.block_bytes, name.size()));
}

void set_llama_header(GgufWriter& w, int n_tokens) {
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", "seed");
  w.set_u32("llama.block_count", 1);
  w.set_u32("llama.embedding_length", 32);
  w.set_u32("llama.expert_count", 2);
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_string("tokenizer.ggml.model", "llama");
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (int i = 0; i < n_tokens; ++i) {
    tokens.push_back(i < 3 ? std::vector<std::string>{"<unk>", "<s>", "</s>"}[i]
                           : "\xe2\x96\x81t" + std::to_string(i));
    scores.push_back(-static_cast<float>(i));
    types.push_back(i < 3 ? 3 : 1);
  }
  w.set_array("tokenizer.ggml.tokens", tokens);
  w.set_array("tokenizer.ggml.scores", scores);
  w.set_array("tokenizer.ggml.token_type", types);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
}

std::vector<std::pair<std::string, GgufWriter>> seeds() {
  std::vector<std::pair<std::string, GgufWriter>> out;

  out.emplace_back("empty", GgufWriter());

  GgufWriter scalars;
  scalars.set("u8", make_value(uint8_t{1}));
  scalars.set("i8", make_value(int8_t{-1}));
  scalars.set("u16", make_value(uint16_t{2}));
  scalars.set("i16", make_value(int16_t{-2}));
  scalars.set_u32("u32", 3);
  scalars.set_i32("i32", -3);
  scalars.set_f32("f32", 0.5f);
  scalars.set_bool("bool", true);
  scalars.set_string("string", "text");
  scalars.set_u64("u64", 4);
  scalars.set_i64("i64", -4);
  scalars.set_f64("f64", 0.25);
  out.emplace_back("scalars", std::move(scalars));

  GgufWriter arrays;
  arrays.set_version(2);
  arrays.set_array("a.u8", std::vector<uint8_t>{1, 2});
  arrays.set_array("a.i16", std::vector<int16_t>{-1, 1});
  arrays.set_array("a.u64", std::vector<uint64_t>{7});
  arrays.set_array("a.f64", std::vector<double>{1.5});
  arrays.set_array("a.bool", std::vector<bool>{true, false});
  arrays.set_array("a.str", std::vector<std::string>{"x", "", "yz"});
  arrays.set_array("a.nested",
                   std::vector<Value>{make_value(make_array(std::vector<int32_t>{1, 2})),
                                      make_value(make_array(std::vector<Value>{make_value(
                                          make_array(std::vector<std::string>{"deep"}))}))});
  out.emplace_back("arrays-v2", std::move(arrays));

  GgufWriter model;
  set_llama_header(model, 16);
  add_tensor(model, "token_embd.weight", GgmlType::F32, {32, 16});
  add_tensor(model, "output_norm.weight", GgmlType::F32, {32});
  add_tensor(model, "blk.0.attn_q.weight", GgmlType::F16, {32, 32});
  add_tensor(model, "blk.0.attn_k.weight", GgmlType::BF16, {32, 8});
  add_tensor(model, "blk.0.ffn_gate_inp.weight", GgmlType::F32, {32, 2});
  add_tensor(model, "blk.0.ffn_up_exps.weight", GgmlType::Q8_0, {32, 8, 2});
  add_tensor(model, "blk.0.ffn_gate_exps.weight", GgmlType::MXFP4, {32, 8, 2});
  add_tensor(model, "blk.0.ffn_down_exps.weight", GgmlType::Q4_0, {32, 8, 2});
  out.emplace_back("model", std::move(model));

  GgufWriter kquants;
  set_llama_header(kquants, 4);
  kquants.set_alignment(64);
  add_tensor(kquants, "q4_k", GgmlType::Q4_K, {256});
  add_tensor(kquants, "q5_k", GgmlType::Q5_K, {256});
  add_tensor(kquants, "q6_k", GgmlType::Q6_K, {256});
  out.emplace_back("kquants-align64", std::move(kquants));

  GgufWriter small_align;
  small_align.set_alignment(8);
  add_tensor(small_align, "a", GgmlType::Q5_0, {32});
  add_tensor(small_align, "b", GgmlType::Q4_1, {32, 1, 1, 2});
  add_tensor(small_align, "c", GgmlType::I32, {3});
  out.emplace_back("align8", std::move(small_align));

  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  try {
    std::filesystem::create_directories(argv[1]);
    for (const auto& [name, writer] : seeds()) {
      writer.write(std::filesystem::path(argv[1]) / (name + ".gguf"));
    }
  } catch (const moescope::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
