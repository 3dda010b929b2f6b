// `moescope batch` on the built-in model: every request's text equals `moescope generate` alone
// with the same flags (with and without offloading, both schedulers); --json's shape; LOSSY
// capacity-aware gating is labelled; a malformed workload file gets one line naming the line and
// leaves no trace (nor a run in an existing one); a recorded batch (--trace) replays to its live
// counters and every trace command reads it: `runs` counts its requests, the report shows each
// request's own text, the Perfetto export shows the steps; under capacity-aware gating the trace
// keeps every token's top-2k router candidates.
#define QT_NO_KEYWORDS
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "storage/trace_reader.h"

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

// The text between tags of an HTML fragment, with the report's escapes undone.
std::string html_text(const std::string& html) {
  std::string text;
  bool tag = false;
  for (char c : html) {
    if (c == '<') tag = true;
    if (!tag) text += c;
    if (c == '>') tag = false;
  }
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}}) {
    for (size_t i = text.find(from); i != std::string::npos; i = text.find(from, i + to.size())) {
      text.replace(i, from.size(), to);
    }
  }
  return text;
}

TEST(BatchCli, ABatchedTraceShowsItsRequestsStepsAndText) {
  const fs::path dir = test::scratch_dir("moescope-batch-cli");
  const fs::path trace = dir / "requests.trace";
  fs::remove(trace);
  const json j = batch({"--max-batch", "3", "--trace", trace.string()}, text_file());
  expect_solo(j);
  const int64_t steps = j.at("stats").at("steps").get<int64_t>();

  // runs: the run holds four requests.
  auto r = run_moescope({"runs", "--trace", trace.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out).at("runs").at(0).at("requests"), 4);

  // The report: a heading per request, in order, over that request's text: its prompt, then
  // exactly what it generated (generate's text alone).
  const fs::path html_path = dir / "requests.html";
  r = run_moescope({"report", "--trace", trace.string(), "--out", html_path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = test::slurp(html_path);
  size_t at = 0;
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    const size_t heading = html.find("data-request=\"" + std::to_string(i) + "\"", at);
    ASSERT_NE(heading, std::string::npos);
    EXPECT_NE(html.find("(workload line " + std::to_string(i + 1) + ")", heading),
              std::string::npos);
    const size_t begin = html.find("<div class=\"tokens\">", heading);
    const size_t end = html.find("</div>", begin);
    ASSERT_NE(end, std::string::npos);
    const std::string text = html_text(html.substr(begin, end - begin));
    const size_t prompt = text.find(kPrompts[i]);
    EXPECT_NE(prompt, std::string::npos) << text;
    ASSERT_GE(text.size(), solo_texts()[i].size());
    EXPECT_EQ(text.substr(text.size() - solo_texts()[i].size()), solo_texts()[i]) << text;
    at = end;
  }
  // The PDF is laid out from the same document: its text has the headings too.
  const fs::path pdf = dir / "requests.pdf";
  r = run_moescope({"report", "--trace", trace.string(), "--out", pdf.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  if (fs::exists("/usr/bin/pdftotext")) {
    const fs::path txt = dir / "requests.txt";
    ASSERT_EQ(std::system(("pdftotext " + pdf.string() + " " + txt.string()).c_str()), 0);
    const std::string pdf_text = test::slurp(txt);
    for (size_t i = 0; i < kPrompts.size(); ++i) {
      EXPECT_NE(pdf_text.find("Request " + std::to_string(i)), std::string::npos);
    }
  }

  // Perfetto: a "steps" track with one slice per engine step, naming the step's requests.
  const fs::path perfetto = dir / "requests.perfetto.json";
  r = run_moescope(
      {"export", "--trace", trace.string(), "--format", "perfetto", "--out", perfetto.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json events = json::parse(test::slurp(perfetto)).at("traceEvents");
  int64_t steps_tid = -1;
  for (const json& e : events) {
    if (e.at("ph") == "M" && e.at("name") == "thread_name" && e.at("args").at("name") == "steps") {
      steps_tid = e.at("tid").get<int64_t>();
    }
  }
  ASSERT_GE(steps_tid, 0);
  std::vector<int64_t> step_ids;
  std::set<int32_t> seen;
  for (const json& e : events) {
    if (e.at("ph") != "X" || e.at("tid") != steps_tid) continue;
    const json& args = e.at("args");
    step_ids.push_back(args.at("step").get<int64_t>());
    const auto requests = args.at("requests").get<std::vector<int32_t>>();
    EXPECT_GE(requests.size(), 1u);
    EXPECT_LE(requests.size(), 3u);  // --max-batch 3
    seen.insert(requests.begin(), requests.end());
    EXPECT_EQ(e.at("name").get<std::string>().rfind("step " + std::to_string(step_ids.back()), 0),
              0u);
  }
  ASSERT_EQ(int64_t(step_ids.size()), steps);
  for (int64_t s = 0; s < steps; ++s) EXPECT_EQ(step_ids[size_t(s)], s);
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1, 2, 3}));
}

// Under Expanded Drop (m = 2) the trace keeps each forwarded token's top-2k router candidates:
// their probabilities are the router's (from the full logits recorded beside them), best first,
// and every expert a token ran is one of its candidates.
TEST(BatchCli, CapacityAwareRunsRecordTheirRouterCandidates) {
  const fs::path trace = test::scratch_dir("moescope-batch-cli") / "candidates.trace";
  fs::remove(trace);
  const json j = batch({"--capacity", "1", "--expand", "2", "--max-batch", "4", "--trace",
                        trace.string(), "--router-logits"},
                       text_file());
  ASSERT_TRUE(j.contains("run_id"));
  storage::TraceReader reader(trace);
  const int64_t run = j.at("run_id").get<int64_t>();
  ASSERT_TRUE(reader.has_router_candidates(run));
  const policy::MoeShape shape = reader.shape(run);
  const std::vector<int64_t> offsets = storage::router_candidate_offsets(shape);
  const std::vector<storage::RouterCandidates> candidates = reader.router_candidates(run);
  const policy::RoutingTrace routing = reader.routing_trace(run, {.probs = true});
  ASSERT_EQ(int64_t(candidates.size()), routing.n_tokens());
  const int64_t total = shape.total_experts();
  int64_t layer_base = 0, checked = 0;
  std::vector<int64_t> base(size_t(shape.n_layers()));
  for (int32_t l = 0; l < shape.n_layers(); ++l) {
    base[size_t(l)] = layer_base;
    layer_base += shape.n_experts[size_t(l)];
  }
  for (int64_t t = 0; t < routing.n_tokens(); ++t) {
    const storage::RouterCandidates& c = candidates[size_t(t)];
    for (int32_t l = 0; l < shape.n_layers(); ++l) {
      const int64_t m = offsets[size_t(l) + 1] - offsets[size_t(l)];
      ASSERT_EQ(m, std::min(2 * shape.top_k[size_t(l)], shape.n_experts[size_t(l)]));
      const float* probs = routing.probs.data() + t * total + base[size_t(l)];
      std::vector<float> sorted(probs, probs + shape.n_experts[size_t(l)]);
      std::sort(sorted.begin(), sorted.end(), std::greater<>());
      std::set<int32_t> ids;
      for (int64_t i = 0; i < m; ++i) {
        const auto at = size_t(offsets[size_t(l)] + i);
        EXPECT_EQ(c.scores[at], probs[c.experts[at].value]);  // the expert's probability
        EXPECT_EQ(c.scores[at], sorted[size_t(i)]);           // the i-th largest
        ids.insert(c.experts[at].value);
      }
      const size_t cell = size_t(t) * size_t(shape.n_layers()) + size_t(l);
      for (int64_t e = routing.offsets[cell]; e < routing.offsets[cell + 1]; ++e) {
        EXPECT_TRUE(ids.count(routing.selected[size_t(e)].value))
            << "token " << t << " layer " << l;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 0);
}

// A malformed workload appends nothing to an existing trace: the file stays byte for byte.
TEST(BatchCli, MalformedWorkloadLeavesAnExistingTraceAsItWas) {
  const fs::path trace = test::scratch_dir("moescope-batch-cli") / "existing.trace";
  fs::remove(trace);
  batch({"--trace", trace.string(), "-n", "2"}, text_file());
  const std::string before = test::slurp(trace);
  ASSERT_FALSE(before.empty());
  for (const auto& [name, text, extra] :
       std::vector<std::tuple<std::string, std::string, std::vector<std::string>>>{
           {"late-bad.jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": \"b\"}\n[1, 2]\n", {}},
           {"late-empty.jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": \"\"}\n", {}},
           {"late-long.jsonl",
            "{\"prompt\": \"a\"}\n{\"prompt\": \"" + std::string(300, 'y') + " z\"}\n",
            {"--ctx", "16"}}}) {
    SCOPED_TRACE(name);
    std::vector<std::string> args = {"batch", "--prompts", write(name, text).string(), "--trace",
                                     trace.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_moescope(args);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(name + ":" + (name == "late-bad.jsonl" ? "3" : "2") + ":"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(test::count_lines(r.err), 1) << r.err;
    EXPECT_EQ(test::slurp(trace), before);
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
           {"batch", "--prompts", text_file(), "--expand", "2"},
           {"batch", "--prompts", text_file(), "--capacity-devices", "2"},
           {"batch", "--prompts", text_file(), "--capacity", "1", "--capacity-devices", "0"}}) {
    const auto r = run_moescope(args);
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_EQ(test::count_lines(r.err), 1) << r.err;
  }
}

}  // namespace
}  // namespace moescope
