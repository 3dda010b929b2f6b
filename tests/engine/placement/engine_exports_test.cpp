#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "engine/common/error.h"
#include "engine/placement/eplb.h"
#include "engine/placement/engine_exports.h"

namespace moescope::placement {
namespace {

// SGLang reads {"logical_count": [num_layers][num_logical_experts]} integers, one row per model
// layer (python/sglang/srt/eplb/expert_location.py, init_by_eplb).
TEST(EngineExports, SglangLogicalCountHasARowPerModelLayer) {
  const std::vector<std::vector<double>> loads{{5, 0, 7, 1}, {2, 2, 2, 3}};
  const auto j = nlohmann::json::parse(sglang_logical_count_json(loads, {1, 3}, 4));
  ASSERT_EQ(j.size(), 1u);
  const auto& c = j.at("logical_count");
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0], nlohmann::json({0, 0, 0, 0}));
  EXPECT_EQ(c[1], nlohmann::json({5, 0, 7, 1}));
  EXPECT_EQ(c[3], nlohmann::json({2, 2, 2, 3}));
  for (const auto& row : c)
    for (const auto& v : row) EXPECT_TRUE(v.is_number_integer());
  EXPECT_THROW(sglang_logical_count_json(loads, {1, 4}, 4), Error);
  EXPECT_THROW(sglang_logical_count_json({{1, 2}, {1, 2, 3}}, {0, 1}, 2), Error);
}

// {"physical_to_logical_map": [num_layers][num_physical_experts]} and nothing else: SGLang
// passes the dict as keyword arguments to init_by_mapping.
TEST(EngineExports, PhysicalToLogicalMapIsTheOnlyKey) {
  const std::vector<std::vector<double>> w{{90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86}};
  const Placement p = eplb_placement(w, Topology{.devices = 8, .nodes = 2}, 4, 4);
  const auto j = nlohmann::json::parse(physical_to_logical_json(p, {12}, {1}, 2));
  ASSERT_EQ(j.size(), 1u);
  const auto& m = j.at("physical_to_logical_map");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1], nlohmann::json({5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1}));
  // The dense layer keeps the trivial map (slot s -> s % E).
  EXPECT_EQ(m[0][12], 0);
  EXPECT_EQ(m[0][3], 3);
}

// llama.cpp: --n-cpu-moe N keeps the experts of blocks 0..N-1 on the CPU; --override-tensor takes
// PATTERN=BUFFER with llama.cpp's expert regex blk\.N\.ffn_(up|down|gate|gate_up)_(ch|)exps.
TEST(EngineExports, LlamaPlanFitsTheBudgetAndMatchesTheRightTensors) {
  policy::MoeShape shape = policy::MoeShape::uniform(4, 8, 2, 100);  // 800 bytes per layer
  shape.model_layer = {1, 2, 3, 13};
  shape.validate();
  const std::vector<std::vector<double>> loads{{10, 0, 0, 0, 0, 0, 0, 0},
                                               {40, 0, 0, 0, 0, 0, 0, 0},
                                               {30, 0, 0, 0, 0, 0, 0, 0},
                                               {20, 0, 0, 0, 0, 0, 0, 0}};
  const LlamaPlan plan = llama_offload_plan(shape, loads, 1700);
  // --n-cpu-moe 3: blocks 3 and 13 on the GPU (1600 bytes), 50 of 100 pairs.
  EXPECT_EQ(plan.n_cpu_moe_value, 3);
  EXPECT_EQ(plan.n_cpu_moe.gpu_expert_bytes, 1600u);
  EXPECT_DOUBLE_EQ(plan.n_cpu_moe.hit_rate, 0.5);
  // -ot: the two busiest layers (blocks 2 and 3) on the GPU, 70 of 100 pairs.
  EXPECT_EQ(plan.override_tensor.cpu_blocks, (std::vector<int32_t>{1, 13}));
  EXPECT_DOUBLE_EQ(plan.override_tensor.hit_rate, 0.7);
  const std::string pattern = llama_override_pattern(plan.override_tensor.cpu_blocks);
  const auto eq = pattern.rfind("=CPU");
  ASSERT_EQ(eq, pattern.size() - 4);
  const std::regex re(pattern.substr(0, eq));
  EXPECT_TRUE(std::regex_search("blk.1.ffn_up_exps.weight", re));
  EXPECT_TRUE(std::regex_search("blk.13.ffn_gate_up_exps.weight", re));
  EXPECT_TRUE(std::regex_search("blk.1.ffn_down_chexps.weight", re));
  EXPECT_FALSE(std::regex_search("blk.2.ffn_up_exps.weight", re));
  EXPECT_FALSE(std::regex_search("blk.3.ffn_up_exps.weight", re));
  EXPECT_FALSE(std::regex_search("blk.1.ffn_up_shexp.weight", re));
  EXPECT_FALSE(std::regex_search("blk.1.attn_q.weight", re));
  const auto j = nlohmann::json::parse(llama_plan_json(plan));
  EXPECT_EQ(j.at("n_cpu_moe"), 3);
  EXPECT_EQ(j.at("n_cpu_moe_plan").at("args"), "--n-gpu-layers 999 --n-cpu-moe 3");
  EXPECT_NE(j.at("override_tensor_plan").at("args").get<std::string>().find(pattern),
            std::string::npos);
  EXPECT_DOUBLE_EQ(j.at("override_tensor_plan").at("predicted_hit_rate").get<double>(), 0.7);
}

}  // namespace
}  // namespace moescope::placement
