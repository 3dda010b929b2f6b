// The store as a bare ExpertProvider: bytes, accounting, loader order, pacing, safety.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "engine/common/error.h"
#include "engine/offload/expert_pack.h"
#include "engine/offload/expert_store.h"
#include "engine/policy/prefetcher.h"
#include "tests/engine/offload/offload_test_util.h"

namespace moescope::offload {
namespace {

using test::layout_of;
using test::load_model;
using test::views_hold;

std::unique_ptr<ExpertStore> make_store(const Model& model, const OffloadConfig& config) {
  return std::make_unique<ExpertStore>(model.file(), model.expert_tensors(),
                                       int32_t(model.hparams().n_expert_used), config);
}

// One MoE step the way the MoE block runs it; checks every expert's bytes.
void run_step(ExpertStore& store, const ExpertLayout& layout, int32_t m,
              std::vector<int32_t> experts) {
  std::sort(experts.begin(), experts.end());
  std::vector<ExpertId> ids;
  for (int32_t e : experts) ids.push_back(ExpertId(e));
  const LayerId layer = layout.block(MoeLayerId(m));
  store.hint_upcoming(layer, ids);
  for (ExpertId e : ids) {
    const ExpertWeights w = store.acquire(layer, e);
    EXPECT_TRUE(views_hold(layout, m, e.value, w)) << "layer " << m << " expert " << e.value;
    store.release(layer, e);
  }
}

// Acquires and releases one expert of an announced step.
void use(ExpertStore& store, LayerId layer, ExpertId e) {
  store.acquire(layer, e);
  store.release(layer, e);
}

std::vector<int32_t> pick(std::mt19937& rng, int32_t n_expert, int32_t k) {
  std::vector<int32_t> all(static_cast<size_t>(n_expert));
  for (int32_t i = 0; i < n_expert; ++i) all[size_t(i)] = i;
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(size_t(k));
  return all;
}

policy::LinkModel slow_link(int64_t latency_ms) {
  policy::LinkModel link;
  link.name = "test";
  link.latency_ns = latency_ms * 1'000'000;
  return link;
}

struct ChurnCase {
  std::string name;
  std::string policy;
  std::optional<policy::CacheCapacity> capacity;
  policy::Budget budget = policy::Budget::slots(0);
  int32_t scratch = 2;
  bool pack = false;
  int32_t k = 2;
  std::string prefetcher = "none";
  int64_t latency_us = 0;
};

class StoreChurn : public ::testing::TestWithParam<ChurnCase> {};

TEST_P(StoreChurn, ServesExactBytesAndCountsEveryLoad) {
  const ChurnCase& c = GetParam();
  auto model = load_model("llama-moe-q8_0");
  const ExpertLayout layout = layout_of(*model);
  OffloadConfig config;
  config.policy = c.policy;
  config.capacity = c.capacity;
  config.budget = c.budget;
  config.scratch_buffers = c.scratch;
  config.prefetcher = c.prefetcher;
  if (c.latency_us > 0) config.link.latency_ns = c.latency_us * 1000;
  if (c.pack) {
    config.pack = test::temp_dir() / "churn.mxp";
    if (!std::filesystem::exists(config.pack)) write_expert_pack(layout, config.pack);
  }
  auto store = make_store(*model, config);
  std::mt19937 rng(11);
  int64_t acquires = 0;
  for (int t = 0; t < 40; ++t) {
    for (int32_t m = 0; m < layout.n_layers(); ++m) {
      run_step(*store, layout, m, pick(rng, layout.n_expert(MoeLayerId(m)), c.k));
      acquires += c.k;
    }
  }
  store->wait_idle();
  const policy::CacheCounters total = store->decisions().total();
  EXPECT_EQ(total.accesses, acquires);
  EXPECT_EQ(total.hits + total.misses, total.accesses);
  EXPECT_GT(total.misses, 0);
  const StoreStats s = store->stats();
  EXPECT_LE(s.max_buffers_in_use, s.buffers);
  if (c.prefetcher != "none") {
    EXPECT_GT(total.prefetch_issued, 0);
    EXPECT_LE(s.loads, total.misses + total.prefetch_issued + s.reloads);
    return;
  }
  // Without prefetching every miss is exactly one load: a miss never evicts an expert its step
  // has yet to use, and the experts it did use keep their copies in scratch buffers.
  EXPECT_EQ(s.loads, total.misses);
  EXPECT_EQ(s.saved_loads, 0);
  EXPECT_EQ(s.reloads, 0);
  EXPECT_EQ(s.raw_bytes, s.loads * int64_t(layout.packed_bytes(MoeLayerId(0))));
  EXPECT_LE(s.max_buffers_in_use, s.buffers);
}

INSTANTIATE_TEST_SUITE_P(
    Capacities, StoreChurn,
    ::testing::Values(
        ChurnCase{"one_slot", "lru", policy::CacheCapacity::uniform(4, 1)},
        ChurnCase{"one_slot_one_scratch", "lru", policy::CacheCapacity::uniform(4, 1), {}, 1},
        ChurnCase{"three_slots_pack", "lru", policy::CacheCapacity::uniform(4, 3), {}, 2, true},
        ChurnCase{"fifo_top4", "fifo", policy::CacheCapacity::uniform(4, 2), {}, 2, false, 4},
        ChurnCase{"global_one_slot", "lru-global", policy::CacheCapacity::global_slots(1), {}, 1},
        ChurnCase{"global_bytes_pack", "lfu-global", {}, policy::Budget::bytes(300'000), 2, true},
        ChurnCase{"random_nine_slots", "random:5", {}, policy::Budget::slots(9)},
        ChurnCase{"no_cache_top3", "lru", policy::CacheCapacity::uniform(4, 0), {}, 1, false, 3},
        ChurnCase{"prefetch_same_prev_slow",
                  "lru-global",
                  policy::CacheCapacity::global_slots(6),
                  {},
                  1,
                  false,
                  2,
                  "same-prev",
                  50},
        ChurnCase{"prefetch_freq_global",
                  "lru-global",
                  policy::CacheCapacity::global_slots(5),
                  {},
                  2,
                  true,
                  3,
                  "freq:3",
                  20}),
    [](const auto& info) { return info.param.name; });

TEST(ExpertStore, ArenaIsBudgetPlusScratch) {
  auto model = load_model("llama-moe-q8_0");
  const ExpertLayout layout = layout_of(*model);
  OffloadConfig config;
  config.policy = "lru-global";
  const uint64_t budget = 5 * layout.max_packed_bytes() + 100;
  config.budget = policy::Budget::bytes(budget);
  config.scratch_buffers = 2;
  auto store = make_store(*model, config);
  const StoreStats s = store->stats();
  EXPECT_EQ(s.buffers, 5 + 2);
  EXPECT_LE(uint64_t(s.buffers - s.scratch_buffers) * layout.packed_bytes(MoeLayerId(0)), budget);
  EXPECT_LT(s.buffer_bytes, layout.max_packed_bytes() + 4096);
}

TEST(ExpertStore, DemandLoadsGoBeforeQueuedPrefetches) {
  auto model = load_model("llama-moe-q8_0");
  const ExpertLayout layout = layout_of(*model);
  OffloadConfig config;
  config.capacity = policy::CacheCapacity::uniform(4, 4);
  config.prefetcher = "next-gate:1:3";
  // Long loads, so that layer 1's demand surely arrives while its prefetches are queued.
  config.link = slow_link(100);
  config.record_loads = true;
  auto store = make_store(*model, config);
  ASSERT_EQ(store->prediction_inputs().router_probe, (policy::RouterProbeRequest{1, 3}));
  store->prefetcher()->set_probe_source(
      [](policy::PrefetchTarget target, int32_t, std::vector<ExpertId>& out) {
        out.clear();
        if (target.layer.value == 1) out = {ExpertId(4), ExpertId(5), ExpertId(6)};
      });
  // Layer 0 needs expert 0 and queues prefetches of 4, 5, 6 for layer 1; layer 1 then needs 7.
  const LayerId l0(0), l1(1);
  const ExpertId e0(0), e7(7);
  store->hint_upcoming(l0, std::span(&e0, 1));
  use(*store, l0, e0);
  store->hint_upcoming(l1, std::span(&e7, 1));
  const ExpertWeights w = store->acquire(l1, e7);
  EXPECT_TRUE(views_hold(layout, 1, 7, w));
  store->release(l1, e7);
  store->wait_idle();

  const auto log = store->load_log();
  auto find = [&](int32_t layer, int32_t expert) {
    for (const LoadRecord& r : log)
      if (r.layer.value == layer && r.expert.value == expert) return r;
    ADD_FAILURE() << "no load of layer " << layer << " expert " << expert;
    return LoadRecord{};
  };
  const LoadRecord d0 = find(0, 0), d7 = find(1, 7);
  EXPECT_EQ(d7.kind, LoadKind::kDemand);
  int64_t started_after_demand = 0;
  for (int32_t e : {4, 5, 6}) {
    const LoadRecord p = find(1, e);
    EXPECT_EQ(p.kind, LoadKind::kPrefetch);
    EXPECT_GE(p.start_ns, d0.end_ns);  // the demand of layer 0 went first
    // Prefetches still queued when layer 1's demand arrived wait behind it.
    if (p.start_ns > d7.queued_ns) {
      EXPECT_GE(p.start_ns, d7.end_ns) << "prefetch " << e << " overtook the demand load";
      ++started_after_demand;
    }
  }
  EXPECT_GE(started_after_demand, 1);
  EXPECT_GE(store->decisions().total().prefetch_issued, 3);
}

TEST(ExpertStore, AcquiredExpertsSurviveTheirEviction) {
  auto model = load_model("llama-moe-q8_0");
  const ExpertLayout layout = layout_of(*model);
  OffloadConfig config;
  config.capacity = policy::CacheCapacity::uniform(4, 1);
  config.scratch_buffers = 1;
  auto store = make_store(*model, config);
  const LayerId l0(0);
  const ExpertId held(3);
  store->hint_upcoming(l0, std::span(&held, 1));
  const ExpertWeights w = store->acquire(l0, held);
  ASSERT_TRUE(views_hold(layout, 0, 3, w));
  // Every later step of layer 0 evicts the held expert's slot owner; loads keep landing.
  std::mt19937 rng(3);
  for (int i = 0; i < 30; ++i) {
    std::vector<int32_t> experts = pick(rng, 8, 2);
    experts.erase(std::remove(experts.begin(), experts.end(), 3), experts.end());
    run_step(*store, layout, 0, experts);
    run_step(*store, layout, 1, pick(rng, 8, 2));
    ASSERT_TRUE(views_hold(layout, 0, 3, w)) << "the held expert was overwritten at step " << i;
  }
  store->release(l0, held);
  EXPECT_THROW(store->release(l0, held), Error);
}

TEST(ExpertStore, TakeReadyPutsTheExpertsInMemoryFirst) {
  auto model = load_model("llama-moe-q8_0");
  const ExpertLayout layout = layout_of(*model);
  OffloadConfig config;
  config.capacity = policy::CacheCapacity::uniform(4, 4);
  config.link = slow_link(30);
  auto store = make_store(*model, config);
  const LayerId l0(0);
  run_step(*store, layout, 0, {1, 2});  // 1 and 2 stay resident
  // The next step needs 0 and 3 as well: they go on the slow link, 1 and 2 are ready now.
  std::vector<ExpertId> pending = {ExpertId(0), ExpertId(1), ExpertId(2), ExpertId(3)};
  store->hint_upcoming(l0, pending);
  const size_t ready = store->take_ready(l0, pending);
  ASSERT_EQ(ready, 2u);
  EXPECT_EQ(pending, (std::vector<ExpertId>{ExpertId(1), ExpertId(2), ExpertId(0), ExpertId(3)}));
  // Held together while the rest load; then the rest, as they land.
  const ExpertWeights w1 = store->acquire(l0, pending[0]);
  const ExpertWeights w2 = store->acquire(l0, pending[1]);
  EXPECT_TRUE(views_hold(layout, 0, 1, w1));
  EXPECT_TRUE(views_hold(layout, 0, 2, w2));
  store->release(l0, pending[0]);
  store->release(l0, pending[1]);
  for (size_t i = 2; i < pending.size();) {
    const std::span rest = std::span(pending).subspan(i);
    const size_t n = store->take_ready(l0, rest);
    ASSERT_GE(n, 1u);
    ASSERT_LE(n, rest.size());
    for (size_t j = 0; j < n; ++j) {
      EXPECT_TRUE(views_hold(layout, 0, rest[j].value, store->acquire(l0, rest[j])));
      store->release(l0, rest[j]);
    }
    i += n;
  }
  std::vector<ExpertId> sorted = pending;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<ExpertId>{ExpertId(0), ExpertId(1), ExpertId(2), ExpertId(3)}));
}

TEST(ExpertStore, EvictionInFlightDiscardsTheLoadSafely) {
  auto model = load_model("llama-moe-q8_0");
  const ExpertLayout layout = layout_of(*model);
  OffloadConfig config;
  config.capacity = policy::CacheCapacity::uniform(4, 1);
  config.link = slow_link(200);
  config.record_loads = true;
  auto store = make_store(*model, config);
  const LayerId l0(0);
  const ExpertId a(1), b(2);
  store->hint_upcoming(l0, std::span(&a, 1));  // a starts loading ...
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->stats().loads_started == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  ASSERT_EQ(store->stats().loads_started, 1);
  store->hint_upcoming(l0, std::span(&b, 1));  // ... and is evicted for b before it lands
  const ExpertWeights w = store->acquire(l0, b);
  EXPECT_TRUE(views_hold(layout, 0, 2, w));
  store->release(l0, b);
  store->wait_idle();
  const auto log = store->load_log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].expert.value, 1);
  EXPECT_TRUE(log[0].discarded);
  EXPECT_FALSE(log[1].discarded);
  EXPECT_GE(log[1].start_ns, log[0].end_ns);
  EXPECT_EQ(store->stats().discarded_loads, 1);
}

TEST(ExpertStore, LoadsArePacedToTheLink) {
  auto model = load_model("llama-moe-q8_0");
  const ExpertLayout layout = layout_of(*model);
  OffloadConfig config;
  config.capacity = policy::CacheCapacity::uniform(4, 2);
  config.link.name = "test";
  config.link.latency_ns = 4'000'000;
  config.link.bandwidth_bytes_per_s = 20e6;  // an expert of ~26 KB takes ~1.3 ms more
  config.record_loads = true;
  auto store = make_store(*model, config);
  const int64_t transfer =
      config.link.transfer_ns(GgufExpertSource(layout).link_bytes(MoeLayerId(0), 0));
  const int64_t modelled = config.link.transfer_ns(layout.packed_bytes(MoeLayerId(0)));
  const LayerId l0(0);
  const ExpertId e(5);
  const auto t0 = std::chrono::steady_clock::now();
  store->hint_upcoming(l0, std::span(&e, 1));
  use(*store, l0, e);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, std::chrono::nanoseconds(transfer));
  const auto log = store->load_log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_GE(log[0].end_ns - log[0].start_ns, transfer);
  const StoreStats s = store->stats();
  EXPECT_LE(s.stalls, 1);  // 0 only if this thread slept through the whole load
  EXPECT_EQ(store->measured().total().stall_ns, s.stall_ns);
  // A hit does not wait.
  store->hint_upcoming(l0, std::span(&e, 1));
  use(*store, l0, e);
  EXPECT_EQ(store->stats().stalls, s.stalls);
  // The decision core models the same link: one cold load's stall, booked when the first step
  // ended (at the second one).
  EXPECT_EQ(store->decisions().total().stall_ns, modelled);
}

TEST(ExpertStore, MisuseIsAnError) {
  auto model = load_model("deepseek2-lite-f32");
  const ExpertLayout layout = layout_of(*model);
  ASSERT_GT(layout.block(MoeLayerId(0)).value, 0)
      << "deepseek2-lite should start with a dense block";
  OffloadConfig config;
  config.capacity = policy::CacheCapacity::uniform(layout.n_layers(), 1);
  auto store = make_store(*model, config);
  const LayerId dense(0), moe = layout.block(MoeLayerId(0));
  const ExpertId e(1), bad(1000);
  EXPECT_THROW(store->hint_upcoming(dense, std::span(&e, 1)), Error);
  EXPECT_THROW(store->hint_upcoming(moe, std::span(&bad, 1)), Error);
  EXPECT_THROW(store->acquire(moe, e), Error);  // not announced
  EXPECT_THROW(store->release(moe, e), Error);  // not acquired
  store->hint_upcoming(moe, std::span(&e, 1));
  const ExpertWeights w = store->acquire(moe, e);
  EXPECT_TRUE(views_hold(layout, 0, 1, w));
  store->release(moe, e);
}

TEST(ExpertStore, BadConfigsAreErrors) {
  auto model = load_model("llama-moe-q8_0");
  OffloadConfig config;
  config.budget = policy::Budget::slots(8);
  config.policy = "no-such-policy";
  EXPECT_THROW(make_store(*model, config), Error);
  config.policy = "lru";
  config.prefetcher = "psychic";
  EXPECT_THROW(make_store(*model, config), Error);
  config.prefetcher = "none";
  config.scratch_buffers = 0;
  EXPECT_THROW(make_store(*model, config), Error);
  config.scratch_buffers = 2;
  config.capacity = policy::CacheCapacity::global_slots(4);  // lru is per layer
  EXPECT_THROW(make_store(*model, config), Error);
  config.capacity.reset();
  config.pack = test::temp_dir() / "does-not-exist.mxp";
  EXPECT_THROW(make_store(*model, config), Error);
}

}  // namespace
}  // namespace moescope::offload
