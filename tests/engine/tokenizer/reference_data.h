#pragma once
// The tokenizer references in shared/reference/tokenizer/: llama-tokenize's ids for each
// vocabulary (VOCAB.json) and llama.cpp's own test inputs/outputs (VOCAB/*.inp, *.out).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/tokenizer/tokenizer.h"

namespace moescope::tokenizer::testing {

inline const std::vector<std::string> kVocabNames = {
    "llama-spm",      "gpt-2",  "gpt-neox",  "phi-3", "refact",   "deepseek-llm",
    "deepseek-coder", "falcon", "starcoder", "mpt",   "baichuan", "spm4096"};

struct ReferenceCase {
  std::string text;
  std::vector<int32_t> ids_bos;    // llama-tokenize (BOS as the vocabulary asks, specials parsed)
  std::vector<int32_t> ids_nobos;  // the same with --no-bos
  std::string source;              // "inp" (llama.cpp's test strings) or "extra"
};

struct InpOutCase {
  std::string text;
  std::vector<int32_t> ids;  // without BOS
};

std::filesystem::path tokenizer_dir();
std::filesystem::path vocab_gguf(const std::string& name);
std::vector<ReferenceCase> load_reference_cases(const std::string& name);
// Empty when the vocabulary has no .inp/.out pair.
std::vector<InpOutCase> load_inp_out_cases(const std::string& name);
// One tokenizer per vocabulary, loaded once for the whole test binary.
const Tokenizer& tokenizer_for(const std::string& name);

}  // namespace moescope::tokenizer::testing
