// The CLI and the GUI record through one session pipeline (storage/session/generation_session.h).
// The same greedy prompt of the built-in model is recorded twice, in this process: through the
// CLI's command code path (`moescope record`, run_generation_command) and through the GUI's
// engine-thread job (views::GenerationJob, run headless on this thread). The two runs are then
// compared table by table through the TraceReader: prompt, tokens, routing (weights and logits
// bit for bit), cache events, next-gate predictions, policies and their counters, the run's
// summary. Only what differs by design is left out: times (and the stall derived from them), and
// each front end's description of the run (label, settings JSON, model hash).
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "app/cli/default_model.h"
#include "app/cli/recording.h"
#include "storage/trace_reader.h"
#include "views/session/generation_job.h"
#include "views/session/loaded_model.h"
#include "views/session/run_settings.h"

namespace moescope {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPrompt = "The expert cache keeps";
constexpr int kTokens = 12;
constexpr int kThreads = 2;

// The counters that do not depend on the clock (stall_ns does: it is time).
void expect_same_counters(const policy::CacheCounters& a, const policy::CacheCounters& b,
                          const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(a.accesses, b.accesses);
  EXPECT_EQ(a.hits, b.hits);
  EXPECT_EQ(a.misses, b.misses);
  EXPECT_EQ(a.bypasses, b.bypasses);
  EXPECT_EQ(a.evictions, b.evictions);
  EXPECT_EQ(a.bytes_loaded, b.bytes_loaded);
  EXPECT_EQ(a.prefetch_predicted, b.prefetch_predicted);
  EXPECT_EQ(a.prefetch_correct, b.prefetch_correct);
  EXPECT_EQ(a.prefetch_routed, b.prefetch_routed);
  EXPECT_EQ(a.prefetch_issued, b.prefetch_issued);
  EXPECT_EQ(a.prefetch_bytes, b.prefetch_bytes);
  EXPECT_EQ(a.prefetch_used, b.prefetch_used);
  EXPECT_EQ(a.prefetch_wasted, b.prefetch_wasted);
  EXPECT_EQ(a.prefetch_wasted_bytes, b.prefetch_wasted_bytes);
}

class SessionFrontEnds : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("moescope-front-ends-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    model_path_ = cli::find_default_model();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The GUI's settings for the run both front ends record.
  views::RunSettings gui_settings(const fs::path& trace) const {
    views::RunSettings s;
    s.prompt = kPrompt;
    s.trace_path = QString::fromStdString(trace.string());
    s.generation.max_new_tokens = kTokens;
    s.generation.sampling.temperature = 0;
    s.threads = kThreads;
    s.cache.offload = true;
    s.cache.budget_percent = 25;
    s.cache.policy = "lru";
    s.cache.prefetcher = "next-gate";  // predictions only the engine makes: both must record them
    s.cache.link = "none";
    s.cache.allocator = "uniform";
    s.cache.compare = {"lfu", "fifo"};
    return s;
  }

  // Records through the GUI's job; returns the run id.
  int64_t record_gui(const fs::path& trace) {
    auto loaded = views::LoadedModel::load(model_path_, kThreads);
    views::GenerationJob job(1, loaded, gui_settings(trace));
    job.run();
    EXPECT_TRUE(job.ok) << job.error.toStdString();
    EXPECT_TRUE(job.offloaded);
    slots_ = views::budget_slots(job.settings.cache, loaded->shape);
    return storage::TraceReader(trace).latest_run();
  }

  // Records through the CLI's command with the same settings spelled as flags.
  int64_t record_cli(const fs::path& trace) {
    const QStringList args = {"moescope record",
                              "--model",
                              QString::fromStdString(model_path_.string()),
                              "--prompt",
                              kPrompt,
                              "-n",
                              QString::number(kTokens),
                              "--temp",
                              "0",
                              "--threads",
                              QString::number(kThreads),
                              "--trace",
                              QString::fromStdString(trace.string()),
                              "--expert-slots",
                              QString::number(slots_),
                              "--policy",
                              "lru",
                              "--prefetch",
                              "next-gate",
                              "--link",
                              "none",
                              "--allocator",
                              "uniform",
                              "--compare",
                              "lfu,fifo",
                              "--router-logits",
                              "--quiet"};
    EXPECT_EQ(cli::run_generation_command(args, /*record=*/true), 0);
    return storage::TraceReader(trace).latest_run();
  }

  fs::path dir_;
  fs::path model_path_;
  uint64_t slots_ = 0;
};

TEST_F(SessionFrontEnds, CliAndGuiRecordIdenticalTraces) {
  const fs::path gui_trace = dir_ / "gui.sqlite", cli_trace = dir_ / "cli.sqlite";
  const int64_t gui_run = record_gui(gui_trace);
  ASSERT_GT(slots_, 0u);
  const int64_t cli_run = record_cli(cli_trace);
  storage::TraceReader gui(gui_trace), cli(cli_trace);

  // The runs: complete, the same shape, counts and policies.
  const storage::RunInfo gi = gui.run_info(gui_run), ci = cli.run_info(cli_run);
  EXPECT_EQ(gi.status, storage::RunStatus::kComplete);
  EXPECT_EQ(ci.status, storage::RunStatus::kComplete);
  EXPECT_EQ(gi.seed, ci.seed);
  EXPECT_TRUE(gui.shape(gui_run) == cli.shape(cli_run));
  const auto gui_summary = nlohmann::json::parse(gi.summary_json);
  const auto cli_summary = nlohmann::json::parse(ci.summary_json);
  for (const char* key :
       {"stop_reason", "stopped_by_user", "prompt_tokens", "generated_tokens", "decoded_tokens"}) {
    ASSERT_TRUE(gui_summary.contains(key)) << key;
    EXPECT_EQ(gui_summary[key], cli_summary[key]) << key;
  }
  EXPECT_EQ(gui_summary["generated_tokens"], kTokens);

  // The prompt.
  const auto gp = gui.prompts(gui_run), cp = cli.prompts(cli_run);
  ASSERT_EQ(gp.size(), 1u);
  ASSERT_EQ(cp.size(), 1u);
  EXPECT_EQ(gp[0].text, cp[0].text);
  EXPECT_EQ(gp[0].n_tokens, cp[0].n_tokens);

  // Every token row, apart from its times.
  const auto gt = gui.tokens(gui_run), ct = cli.tokens(cli_run);
  ASSERT_EQ(gt.size(), ct.size());
  ASSERT_EQ(int(gt.size()), gp[0].n_tokens + kTokens);
  for (size_t i = 0; i < gt.size(); ++i) {
    SCOPED_TRACE("token " + std::to_string(i));
    EXPECT_EQ(gt[i].pos, ct[i].pos);
    EXPECT_EQ(gt[i].token_id, ct[i].token_id);
    EXPECT_EQ(gt[i].text, ct[i].text);
    EXPECT_EQ(gt[i].phase, ct[i].phase);
    EXPECT_EQ(gt[i].forwarded, ct[i].forwarded);
    EXPECT_EQ(gt[i].chunk_first, ct[i].chunk_first);
    EXPECT_EQ(gt[i].kind, ct[i].kind);
    EXPECT_EQ(gt[i].request, ct[i].request);
    EXPECT_EQ(gt[i].step, ct[i].step);
  }

  // Routing: the same computation, bit for bit, with the same cache outcomes.
  const auto gr = gui.routing(gui_run), cr = cli.routing(cli_run);
  ASSERT_EQ(gr.size(), cr.size());
  ASSERT_FALSE(gr.empty());
  for (size_t i = 0; i < gr.size(); ++i) {
    SCOPED_TRACE("routing entry " + std::to_string(i));
    EXPECT_EQ(gr[i].pos, cr[i].pos);
    EXPECT_EQ(gr[i].layer, cr[i].layer);
    EXPECT_EQ(gr[i].rank, cr[i].rank);
    EXPECT_EQ(gr[i].expert, cr[i].expert);
    EXPECT_EQ(gr[i].weight, cr[i].weight);
    EXPECT_EQ(gr[i].logit, cr[i].logit);
    EXPECT_EQ(gr[i].cache, cr[i].cache);
  }

  // Cache events, apart from their times.
  const auto ge = gui.cache_events(gui_run), ce = cli.cache_events(cli_run);
  ASSERT_EQ(ge.size(), ce.size());
  ASSERT_FALSE(ge.empty());
  for (size_t i = 0; i < ge.size(); ++i) {
    SCOPED_TRACE("cache event " + std::to_string(i));
    EXPECT_EQ(ge[i].kind, ce[i].kind);
    EXPECT_EQ(ge[i].pos, ce[i].pos);
    EXPECT_EQ(ge[i].layer, ce[i].layer);
    EXPECT_EQ(ge[i].expert, ce[i].expert);
    EXPECT_EQ(ge[i].bytes, ce[i].bytes);
  }

  // The engine's next-gate predictions.
  const auto gg = gui.gate_predictions(gui_run), cg = cli.gate_predictions(cli_run);
  ASSERT_EQ(gg.size(), cg.size());
  ASSERT_FALSE(gg.empty());
  for (size_t i = 0; i < gg.size(); ++i) {
    EXPECT_EQ(gg[i].pos, cg[i].pos);
    EXPECT_EQ(gg[i].layer, cg[i].layer);
    EXPECT_EQ(gg[i].experts, cg[i].experts);
  }

  // The policies (the store's lru, its shadows lfu and fifo) and their counters.
  const auto gpol = gui.policies(gui_run), cpol = cli.policies(cli_run);
  ASSERT_EQ(gpol.size(), 3u);
  ASSERT_EQ(gpol.size(), cpol.size());
  for (size_t i = 0; i < gpol.size(); ++i) {
    const std::string what = "policy " + gpol[i].spec;
    EXPECT_EQ(gpol[i].primary, cpol[i].primary) << what;
    EXPECT_EQ(gpol[i].spec, cpol[i].spec) << what;
    EXPECT_EQ(gpol[i].prefetcher, cpol[i].prefetcher) << what;
    EXPECT_TRUE(gpol[i].capacity == cpol[i].capacity) << what;
    const policy::CacheReport g = gui.policy_report(gui_run, gpol[i].id);
    const policy::CacheReport c = cli.policy_report(cli_run, cpol[i].id);
    expect_same_counters(g.phase[0], c.phase[0], what + " prefill");
    expect_same_counters(g.phase[1], c.phase[1], what + " decode");
    const auto gtok = gui.policy_tokens(gui_run, gpol[i].id);
    const auto ctok = cli.policy_tokens(cli_run, cpol[i].id);
    ASSERT_EQ(gtok.size(), ctok.size()) << what;
    for (size_t t = 0; t < gtok.size(); ++t)
      expect_same_counters(gtok[t], ctok[t], what + " token " + std::to_string(t));
  }
  EXPECT_GT(gui.policy_report(gui_run, gpol[0].id).total().misses, 0);
}

}  // namespace
}  // namespace moescope
