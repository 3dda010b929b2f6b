// `moescope batch` on the built-in model: every request's text equals `moescope generate` alone
// with the same flags (with and without offloading, both schedulers); --json's shape; LOSSY
// capacity-aware gating is labelled; a malformed workload file gets one line naming the line and
// leaves no trace; a recorded batch (--trace) replays to its live counters and every trace command
// reads it.
#define QT_NO_KEYWORDS
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "tests/app/cli_runner.h"

namespace moescope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_moescope;

const std::vector<std::string> kPrompts = {"In the beginning God created",
                                           "It is a truth universally acknowledged", "The hacker",
                                           "Blessed is the man that walketh not in the counsel"};

fs::path write(const std::string& name, const std::string& text) {
  const fs::path p = test::scratch_dir("moescope-batch-cli") / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string text_file() {
  std::string t;
  for (const auto& p : kPrompts) t += p + "\n";
  return write("prompts.txt", t).string();
}

// generate's text for each prompt alone, greedy, 12 tokens.
const std::vector<std::string>& solo_texts() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    for (const auto& p : kPrompts) {
      const auto r = run_moescope(
          {"generate", "--prompt", p, "--temp", "0", "-n", "12", "--threads", "2", "--json"});
      out.push_back(json::parse(r.out).at("text").get<std::string>());
    }
    return out;
  }();
  return texts;
}

json batch(const std::vector<std::string>& extra, const std::string& file) {
  std::vector<std::string> args = {"batch", "--prompts", file,        "--temp", "0",
                                   "-n",    "12",        "--threads", "2",      "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_moescope(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? json::parse(r.out) : json();
}

// `line_stride`: file lines per prompt (2 when a blank line follows each one).
void expect_solo(const json& j, int line_stride = 1) {
  ASSERT_EQ(j.at("requests").size(), kPrompts.size());
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    const json& r = j.at("requests")[i];
    EXPECT_EQ(r.at("prompt"), kPrompts[i]);
    EXPECT_EQ(r.at("text"), solo_texts()[i]) << "request " << i;
    EXPECT_EQ(r.at("tokens").size(), 12u);
    EXPECT_EQ(r.at("line"), int(i) * line_stride + 1);  // the prompt's line in the file
  }
}

TEST(BatchCli, EveryRequestWritesWhatGenerateWritesAlone) {
  for (const std::string scheduler : {"fifo", "expert-aware"}) {
    SCOPED_TRACE(scheduler);
    const json j = batch({"--scheduler", scheduler, "--max-batch", "3"}, text_file());
    expect_solo(j);
    EXPECT_FALSE(j.at("lossy").get<bool>());
    EXPECT_EQ(j.at("scheduler"), scheduler);
    const json& s = j.at("stats");
    EXPECT_EQ(s.at("generated_tokens"), 12 * int(kPrompts.size()));
    EXPECT_GT(s.at("tokens_per_s").get<double>(), 0.0);
    EXPECT_LE(s.at("ttft_ms_p50").get<double>(), s.at("ttft_ms_p95").get<double>());
    EXPECT_FALSE(s.at("distinct_experts_per_layer").empty());
  }
  std::string jsonl;
  for (const auto& p : kPrompts) jsonl += json{{"prompt", p}, {"id", 7}}.dump() + "\n\n";
  expect_solo(batch({}, write("prompts.jsonl", jsonl).string()), 2);
}

TEST(BatchCli, OffloadedRunsStayExactAndReportTheCache) {
  const json j = batch({"--expert-slots", "24", "--arrival", "poisson:50"}, text_file());
  expect_solo(j);
  ASSERT_TRUE(j.contains("offload"));
}

TEST(BatchCli, CapacityAwareGatingIsLabelledLossy) {
  const json j = batch({"--capacity", "1", "--expand", "2"}, text_file());
  EXPECT_TRUE(j.at("lossy").get<bool>());
  const json& c = j.at("capacity");
  EXPECT_TRUE(c.at("lossy").get<bool>());
  EXPECT_NE(c.at("variant").get<std::string>().find("expanded-drop"), std::string::npos);
  EXPECT_GE(c.at("dropped_fraction").get<double>(), 0.0);
}

// A batched trace, with the store and without (the writer's simulated policies), FIFO and
// expert-aware: replay equals the live counters; runs, report, export and placement read it.
TEST(BatchCli, ARecordedBatchReplaysAndEveryTraceCommandReadsIt) {
  for (const std::string scheduler : {"fifo", "expert-aware"}) {
    SCOPED_TRACE(scheduler);
    const fs::path trace = test::scratch_dir("moescope-batch-cli") / (scheduler + ".trace");
    fs::remove(trace);
    const json j = batch({"--scheduler", scheduler, "--max-batch", "3", "--trace", trace.string(),
                          "--label", "batched " + scheduler},
                         text_file());
    expect_solo(j);
    ASSERT_TRUE(j.contains("run_id"));
    ASSERT_TRUE(j.contains("offload"));  // a recording offloads by default, as record does
    // A second run with another budget and policy appended: the trace holds both.
    const json k = batch({"--scheduler", scheduler, "--trace", trace.string(), "--expert-slots",
                          "8", "--policy", "lfu"},
                         text_file());
    expect_solo(k);

    auto r = run_moescope({"replay", "--trace", trace.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(json::parse(r.out).at("all_equal").get<bool>()) << r.out;
    r = run_moescope({"replay", "--trace", trace.string(), "--run", "1", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json replayed = json::parse(r.out);
    EXPECT_TRUE(replayed.at("all_equal").get<bool>());
    r = run_moescope({"runs", "--trace", trace.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json runs = json::parse(r.out).at("runs");
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_NE(r.out.find("batched " + scheduler), std::string::npos);
    const fs::path html = trace.parent_path() / (scheduler + ".html");
    r = run_moescope({"report", "--trace", trace.string(), "--run", "1", "--out", html.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(test::slurp(html).find("batched " + scheduler), std::string::npos);
    for (const char* format : {"csv", "json", "perfetto"}) {
      const fs::path out = trace.parent_path() / (scheduler + "-export." + format);
      r = run_moescope(
          {"export", "--trace", trace.string(), "--format", format, "--out", out.string()});
      EXPECT_EQ(r.exit_code, 0) << format << ": " << r.err;
    }
    r = run_moescope({"placement", "--trace", trace.string(), "--devices", "2", "--fit-fraction",
                      "0.5", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
}

TEST(BatchCli, MalformedWorkloadsNameTheLine) {
  struct Case {
    std::string name, text, expect;
    std::vector<std::string> extra;
  };
  const std::vector<Case> cases = {
      {"bad.jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": \n", "bad.jsonl:2: not a JSON object", {}},
      {"nostring.jsonl",
       "{\"prompt\": \"a\"}\n{\"text\": \"b\"}\n",
       "nostring.jsonl:2: no string",
       {}},
      {"empty.jsonl",
       "{\"prompt\": \"a\"}\n{\"prompt\": \"\"}\n",
       "empty.jsonl:2: empty prompt",
       {}},
      {"empty.txt", "one\ntwo\n\nthree\n", "empty.txt:3: empty prompt", {}},
      {"long.txt",
       "short\n" + std::string(400, 'x') + " and more words here\n",
       "long.txt:2: prompt has",
       {"--ctx", "16"}},
      {"none.txt", "", "none.txt: no prompts", {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path trace = test::scratch_dir("moescope-batch-cli") / ("bad-" + c.name + ".trace");
    fs::remove(trace);
    std::vector<std::string> args = {"batch", "--prompts", write(c.name, c.text).string(),
                                     "--trace", trace.string()};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    const auto r = run_moescope(args);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_EQ(test::count_lines(r.err), 1) << r.err;
    EXPECT_TRUE(r.out.empty());
    EXPECT_FALSE(fs::exists(trace));  // nothing recorded half-way
  }
}

TEST(BatchCli, UsageErrors) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"batch"},
           {"batch", "--prompts", text_file(), "--scheduler", "lifo"},
           {"batch", "--prompts", text_file(), "--arrival", "poisson:0"},
           {"batch", "--prompts", text_file(), "--max-batch", "0"},
           {"batch", "--prompts", text_file(), "--expand", "2"}}) {
    const auto r = run_moescope(args);
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_EQ(test::count_lines(r.err), 1) << r.err;
  }
}

}  // namespace
}  // namespace moescope
