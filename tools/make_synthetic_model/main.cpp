// make_synthetic_model --out FILE [--layers 8] [--embd 1024] [--ff 2048] [--experts 16]
//                      [--used 2] [--vocab 512] [--heads 8] [--kv-heads 4]
//                      [--type q8_0|q4_k|q4_0|f32] [--seed 1] [--row-pool N] [--dry-run]
//                      [--shared N [--dense-lead 1] [--ff-dense 4096] [--q-lora 512]
//                       [--kv-lora 512]]
// Writes a random-weight MoE GGUF with a SentencePiece tokenizer (Mixtral layout; DeepSeek-V3
// layout with N shared experts when --shared is given) and prints its expert / non-expert bytes
// and the weight bytes one decode token reads.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/common/error.h"
#include "tools/make_synthetic_model/synthetic_model.h"

namespace {

int64_t to_int(std::string_view flag, const char* text) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < 0)
    moescope::fail("{} needs a number, got '{}'", flag, text);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  using moescope::tools::SyntheticMoeSpec;
  SyntheticMoeSpec spec;
  std::string out;
  bool dry_run = false;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      if (a == "--dry-run") {
        dry_run = true;
        continue;
      }
      if (i + 1 >= argc) moescope::fail("{} needs a value", a);
      const char* v = argv[++i];
      if (a == "--out")
        out = v;
      else if (a == "--layers")
        spec.n_layer = to_int(a, v);
      else if (a == "--embd")
        spec.n_embd = to_int(a, v);
      else if (a == "--ff")
        spec.n_ff = to_int(a, v);
      else if (a == "--experts")
        spec.n_expert = to_int(a, v);
      else if (a == "--used")
        spec.n_expert_used = to_int(a, v);
      else if (a == "--vocab")
        spec.n_vocab = to_int(a, v);
      else if (a == "--heads")
        spec.n_head = to_int(a, v);
      else if (a == "--kv-heads")
        spec.n_head_kv = to_int(a, v);
      else if (a == "--shared")
        spec.n_expert_shared = to_int(a, v);
      else if (a == "--dense-lead")
        spec.n_layer_dense_lead = to_int(a, v);
      else if (a == "--ff-dense")
        spec.n_ff_dense = to_int(a, v);
      else if (a == "--q-lora")
        spec.q_lora_rank = to_int(a, v);
      else if (a == "--kv-lora")
        spec.kv_lora_rank = to_int(a, v);
      else if (a == "--row-pool")
        spec.row_pool = to_int(a, v);
      else if (a == "--seed")
        spec.seed = uint64_t(to_int(a, v));
      else if (a == "--type") {
        const std::string_view t = v;
        if (t == "q8_0")
          spec.weight_type = moescope::GgmlType::Q8_0;
        else if (t == "f32")
          spec.weight_type = moescope::GgmlType::F32;
        else if (t == "q4_0")
          spec.weight_type = moescope::GgmlType::Q4_0;
        else if (t == "q4_k")
          spec.weight_type = moescope::GgmlType::Q4_K;
        else
          moescope::fail("--type must be q8_0, q4_k, q4_0 or f32, got '{}'", t);
      } else {
        moescope::fail("unknown option '{}'", a);
      }
    }
    if (out.empty() && !dry_run) moescope::fail("give --out FILE (or --dry-run)");
    const auto sizes = dry_run ? moescope::tools::synthetic_moe_sizes(spec)
                               : moescope::tools::write_synthetic_moe(spec, out);
    std::printf("expert_bytes=%llu\nnon_expert_bytes=%llu\ndecode_bytes=%llu\n",
                static_cast<unsigned long long>(sizes.expert_bytes),
                static_cast<unsigned long long>(sizes.non_expert_bytes),
                static_cast<unsigned long long>(sizes.decode_bytes));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_synthetic_model: %s\n", e.what());
    return 1;
  }
}
