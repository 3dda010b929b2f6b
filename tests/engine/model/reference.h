#pragma once
// llama.cpp's outputs for the reference models (shared/reference/logits/MODEL), and a routing
// recorder to compare MoEScope's routing with them.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/model/moe_observer.h"

namespace moescope::test {

std::filesystem::path reference_dir();
std::filesystem::path model_path(const std::string& model);

// topk[layer][position] = selected experts, best first.
using Routing = std::map<int, std::vector<std::vector<int>>>;

struct ReferenceRun {
  std::vector<int32_t> tokens;
  int64_t n_vocab = 0;
  std::vector<float> logits;  // [n_tokens][n_vocab]
  Routing routing;
  std::map<int, std::vector<double>> margin;  // exact/ only: k-th vs (k+1)-th score gap
};

// Reads logits/MODEL/SUB (SUB = "", "exact", "incremental"). Tokens come from MODEL/tokens.json
// when SUB has none.
ReferenceRun read_reference(const std::string& model, const std::string& sub = "");

// Records every routing decision reported by the model.
class RoutingRecorder : public MoeObserver {
 public:
  void on_routing(const MoeRoutingEvent& event) override;
  Routing routing;
};

struct LogitStats {
  double max_abs = 0;
  double mean_abs = 0;
  double ref_std = 0;
  double argmax_agreement = 0;  // fraction of positions with the same argmax
};
LogitStats compare_logits(const std::vector<float>& ours, const std::vector<float>& ref,
                          int64_t n_vocab);

}  // namespace moescope::test
