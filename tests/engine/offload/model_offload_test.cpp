// Offloading through the real forward pass: logits bit-identical to the resident run, and the
// live decisions equal to a replay of the recorded routing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "engine/model/routing_trace_recorder.h"
#include "engine/offload/expert_pack.h"
#include "engine/offload/expert_store.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/simulator.h"
#include "tests/engine/offload/offload_test_util.h"

namespace moescope::offload {
namespace {

using test::GenRun;

// The prompt every run of this file prefills, then greedy decoding.
GenRun generate(Model& model, int n_decode) {
  return test::greedy_run(model, 12, 977, 13, n_decode);
}

enum class Budget { kOneSlotPerLayer, kNothing, kQuarterBytesGlobal, kHalfSlots, kAll };

struct Case {
  std::string name;
  Budget budget;
  std::string policy;
  std::string prefetcher;
  std::string link;
  bool pack;
  int32_t scratch;
  bool probs = false;  // router probabilities for the policy (and in the recorded trace)
};

OffloadConfig make_config(const Case& c, const ExpertLayout& layout) {
  OffloadConfig config;
  config.policy = c.policy;
  config.prefetcher = c.prefetcher;
  config.link = policy::LinkModel::preset(c.link);
  config.scratch_buffers = c.scratch;
  config.router_probs = c.probs;
  switch (c.budget) {
    case Budget::kOneSlotPerLayer:
      config.capacity = policy::CacheCapacity::uniform(layout.n_layers(), 1);
      break;
    case Budget::kNothing:
      config.capacity = policy::CacheCapacity::uniform(layout.n_layers(), 0);
      break;
    case Budget::kQuarterBytesGlobal:
      config.budget = policy::Budget::bytes(layout.total_bytes() / 4);
      break;
    case Budget::kHalfSlots:
      config.budget = policy::Budget::slots(uint64_t(layout.total_experts() / 2));
      break;
    case Budget::kAll:
      config.budget = policy::Budget::slots(uint64_t(layout.total_experts()));
      break;
  }
  return config;
}

const Case kCases[] = {
    {"one_slot_per_layer", Budget::kOneSlotPerLayer, "lru", "none", "none", false, 1},
    {"no_cache", Budget::kNothing, "lru", "none", "none", false, 2},
    {"quarter_global_prefetch", Budget::kQuarterBytesGlobal, "lru-global", "same-prev", "none",
     false, 2},
    {"half_pack_nvme", Budget::kHalfSlots, "lfu:0.9", "affinity:2", "nvme", true, 2},
    {"all_arc", Budget::kAll, "arc", "freq:2", "none", false, 2},
    {"mrs_probs_one_slot", Budget::kOneSlotPerLayer, "mrs", "none", "none", false, 2, true},
    {"mrs_quarter", Budget::kQuarterBytesGlobal, "mrs-global", "same-prev", "pcie4x16", false, 1,
     true},
};

class BitIdentical : public ::testing::TestWithParam<std::string> {
 protected:
  static constexpr int kDecode = 8;
};

TEST_P(BitIdentical, LogitsEqualTheResidentRunAndDecisionsEqualReplay) {
  const std::string model_name = GetParam();
  auto model = test::load_model(model_name);
  const ExpertLayout layout = test::layout_of(*model);
  const GenRun resident = generate(*model, kDecode);

  std::filesystem::path pack;
  for (const Case& c : kCases) {
    SCOPED_TRACE(model_name + " / " + c.name);
    OffloadConfig config = make_config(c, layout);
    if (c.pack) {
      if (pack.empty()) {
        pack = test::temp_dir() / (model_name + ".mxp");
        write_expert_pack(layout, pack);
      }
      config.pack = pack;
    }
    // The engine's recorder: the live decisions must equal a replay of what it records.
    RoutingTraceRecorder recorder(*model, c.probs);
    ASSERT_TRUE(recorder.shape() == layout.shape());
    auto store = ExpertStore::attach(*model, config, &recorder);
    const GenRun offloaded = generate(*model, kDecode);
    store->detach(*model);
    model->set_observer(nullptr);  // detach() reinstalled the recorder, which dies here

    ASSERT_EQ(offloaded.tokens, resident.tokens);
    ASSERT_EQ(offloaded.logits.size(), resident.logits.size());
    EXPECT_EQ(std::memcmp(offloaded.logits.data(), resident.logits.data(),
                          resident.logits.size() * sizeof(float)),
              0)
        << "logits differ from the resident run";

    const policy::CacheReport live = store->decisions();
    const policy::CacheCounters total = live.total();
    EXPECT_GT(total.accesses, 0);
    EXPECT_GT(store->stats().loads, 0);
    if (c.budget == Budget::kNothing) {
      EXPECT_EQ(total.hits, 0);
    }
    if (c.prefetcher == "none") {
      // Every miss is one load. The only extra loads are hits that a later miss of their own
      // step evicted when no scratch buffer was left to keep the copy (top-k above the scratch
      // buffers).
      store->wait_idle();
      const StoreStats s = store->stats();
      EXPECT_EQ(s.loads, total.misses + s.reloads);
      EXPECT_EQ(s.saved_loads, 0);
      const int32_t top_k =
          *std::max_element(layout.shape().top_k.begin(), layout.shape().top_k.end());
      if (c.scratch >= top_k) {
        EXPECT_EQ(s.reloads, 0);
      }
    }
    if (c.budget == Budget::kAll) {
      // With room for every expert, each is loaded at most once and nothing is evicted.
      EXPECT_EQ(total.evictions, 0);
      EXPECT_LE(total.misses + total.prefetch_issued, layout.total_experts());
    }

    // The same stream replayed through a fresh simulator gives the same counters; live time was
    // modelled with each layer's measured compute, which the trace carries.
    policy::RoutingTrace trace = recorder.finish();
    trace.compute_ns = store->compute_times();
    ASSERT_EQ(trace.compute_ns.size(), size_t(trace.n_tokens()) * size_t(trace.n_layers()));
    const auto stream = policy::AccessStream::build(trace);
    const policy::PolicySpec spec = policy::parse_policy_spec(config.policy);
    policy::TimingModel timing;
    timing.link = config.link;
    policy::CacheSimulator sim(trace.shape, store->capacity(), policy::make_policy(spec, {}),
                               policy::make_prefetcher(config.prefetcher, {}), timing, spec.text);
    EXPECT_TRUE(policy::replay(trace, stream, sim) == live) << "replay differs from the live run";
  }
  // Detached again: the mapped experts serve the same logits.
  EXPECT_EQ(generate(*model, 2).tokens,
            std::vector<int32_t>(resident.tokens.begin(), resident.tokens.begin() + 14));
}

INSTANTIATE_TEST_SUITE_P(Models, BitIdentical,
                         ::testing::Values("llama-moe-q8_0", "qwen2moe-f32", "deepseek2-lite-f32",
                                           "gpt-oss-mxfp4"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

}  // namespace
}  // namespace moescope::offload
