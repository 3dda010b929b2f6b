// `moescope record`, `runs` and `replay`, run as the real binary on the built-in default model.
// What the commands print is checked against the trace file itself (TraceReader and raw SQL),
// against invariants of the routing (entries = forwarded tokens x MoE layers x k), of caches
// (inclusion: LRU hits grow with capacity, Belady never below LRU, all-resident misses = distinct
// experts) and against each other (live counters = stored counters = replayed counters).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/policy/policy_factory.h"
#include "storage/counter_fields.h"
#include "storage/sqlite_db.h"
#include "storage/trace_reader.h"
#include "tests/app/cli_runner.h"

namespace moescope::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kPrompt = "The quick brown fox jumps over the lazy dog. Once upon a time";

// Field names of CacheCounters in the order of storage::kCounterFields.
const char* const kCounterNames[] = {"accesses",
                                     "hits",
                                     "misses",
                                     "bypasses",
                                     "evictions",
                                     "bytes_loaded",
                                     "prefetch_predicted",
                                     "prefetch_correct",
                                     "prefetch_routed",
                                     "prefetch_issued",
                                     "prefetch_bytes",
                                     "prefetch_used",
                                     "prefetch_late",
                                     "prefetch_wasted",
                                     "prefetch_wasted_bytes",
                                     "stall_ns"};

void expect_counters(const json& j, const policy::CacheCounters& c, const std::string& what) {
  for (size_t i = 0; i < storage::kCounterFields.size(); ++i) {
    EXPECT_EQ(j.at(kCounterNames[i]).get<int64_t>(), c.*storage::kCounterFields[i])
        << what << " " << kCounterNames[i];
  }
}

// A CacheReport's JSON (recording.h cache_report_json) against the report itself.
void expect_report(const json& j, const policy::CacheReport& r, const std::string& what) {
  expect_counters(j.at("prefill"), r.phase[0], what + " prefill");
  expect_counters(j.at("decode"), r.phase[1], what + " decode");
  EXPECT_EQ(j.at("end_ns").get<int64_t>(), r.end_ns) << what;
  for (int p = 0; p < 2; ++p) {
    const json& layers = j.at("layers").at(p == 0 ? "prefill" : "decode");
    ASSERT_EQ(layers.size(), r.layer[size_t(p)].size()) << what;
    for (size_t l = 0; l < layers.size(); ++l)
      expect_counters(layers[l], r.layer[size_t(p)][l], what + " layer " + std::to_string(l));
  }
}

std::string slurp(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// The command failed with `code`, one "moescope: ..." line on stderr containing `needle`.
void expect_one_line_error(const CliResult& r, int code, const std::string& needle = "") {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("moescope: ", 0), 0u) << r.err;
  if (!needle.empty()) {
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  }
}

std::vector<std::string> record_args(const fs::path& trace, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"record",
                                   "--trace",
                                   trace.string(),
                                   "--model",
                                   MOESCOPE_DEFAULT_MODEL,
                                   "--prompt",
                                   kPrompt,
                                   "-n",
                                   "24",
                                   "--threads",
                                   "1",
                                   "--seed",
                                   "7"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// Starts the binary with stdout to `out` and stderr to `err`; returns its pid.
pid_t spawn_moescope(const std::vector<std::string>& args, const fs::path& out,
                     const fs::path& err) {
  std::vector<std::string> argv_s = {MOESCOPE_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// Runs the binary with files limited to `max_file_bytes` (writes beyond fail with EFBIG, as on a
// full disk); returns the exit code (-1: killed) and stderr.
std::pair<int, std::string> run_with_file_limit(const std::vector<std::string>& args,
                                                rlim_t max_file_bytes, const fs::path& err) {
  std::vector<std::string> argv_s = {MOESCOPE_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_RDWR);
    const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{max_file_bytes, max_file_bytes};
    setrlimit(RLIMIT_FSIZE, &limit);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream f(err, std::ios::binary);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1,
          std::string(std::istreambuf_iterator<char>(f), {})};
}

class TraceCommands : public ::testing::Test {
 protected:
  // One recording that the read-only tests share.
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("moescope-trace-commands-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    shared_ = dir_ / "shared.sqlite";
    // A link whose loads take time, so that modelled stall (and its replay) is not all zero.
    const CliResult r =
        run_moescope(record_args(shared_, {"--json", "--label", "shared", "--link", "nvme"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    record_json_ = json::parse(r.out);
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void SetUp() override { ASSERT_TRUE(fs::exists(shared_)) << "the shared recording failed"; }

  static fs::path dir_;
  static fs::path shared_;
  static json record_json_;
};

fs::path TraceCommands::dir_;
fs::path TraceCommands::shared_;
json TraceCommands::record_json_;

TEST_F(TraceCommands, RecordStoresEveryRoutingEntryAndTheLiveCounters) {
  const json& j = record_json_;
  const int64_t run = j.at("run_id").get<int64_t>();
  EXPECT_EQ(run, 1);
  EXPECT_EQ(fs::path(j.at("trace").get<std::string>()), shared_);
  const int32_t prompt = j.at("prompt_tokens").get<int32_t>();
  const int32_t decoded = j.at("decoded_tokens").get<int32_t>();
  EXPECT_GT(prompt, 5);
  EXPECT_GT(decoded, 0);
  const int32_t forwarded = prompt + decoded;
  EXPECT_EQ(j.at("forwarded_tokens").get<int32_t>(), forwarded);

  storage::TraceReader reader(shared_);
  const auto runs = reader.runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, storage::RunStatus::kComplete);
  EXPECT_EQ(runs[0].label, "shared");
  EXPECT_EQ(runs[0].n_forwarded, forwarded);
  EXPECT_EQ(runs[0].n_prefill, prompt);

  // Routing entries = forwarded tokens x MoE layers x k, three ways.
  const policy::MoeShape shape = reader.shape(run);
  ASSERT_GT(shape.n_layers(), 0);
  const int64_t expected = int64_t(forwarded) * shape.n_layers() * shape.top_k[0];
  EXPECT_EQ(j.at("routing_entries").get<int64_t>(), expected);
  EXPECT_EQ(int64_t(reader.routing(run).size()), expected);
  storage::Database db(shared_, storage::Database::Mode::kReadOnly);
  EXPECT_EQ(db.query_int("SELECT sum(length(weights)) / 4 FROM routing WHERE run = 1"), expected);
  std::printf("[ info ] %d forwarded tokens x %d MoE layers x top-%d = %lld routing entries\n",
              forwarded, shape.n_layers(), shape.top_k[0], static_cast<long long>(expected));

  // A profiling run: the default budget (a quarter of the experts) and the default shadows.
  const json& offload = j.at("offload");
  EXPECT_EQ(offload.at("capacity_slots").get<int64_t>(),
            std::llround(0.25 * double(shape.total_experts())));
  const json& policies = j.at("policies");
  const auto recorded = reader.policies(run);
  ASSERT_EQ(policies.size(), recorded.size());
  ASSERT_GE(policies.size(), 4u);
  EXPECT_EQ(policies[0].at("role"), "primary");
  std::set<std::string> specs;
  for (const json& p : policies) specs.insert(p.at("spec").get<std::string>());
  for (const char* want : {"lru", "lfu", "fifo", "belady"})
    EXPECT_TRUE(specs.count(policy::parse_policy_spec(want).text)) << want;

  // The trace's counters of every policy equal the live ones the command printed.
  for (const json& p : policies) {
    const std::string spec = p.at("spec").get<std::string>();
    const int32_t id = p.at("id").get<int32_t>();
    const policy::CacheReport report = reader.policy_report(run, id);
    EXPECT_EQ(recorded[size_t(id)].spec, spec);
    EXPECT_EQ(recorded[size_t(id)].primary, p.at("role") == "primary");
    expect_report(p.at("live"), report, spec);
    policy::CacheCounters sum;
    for (const policy::CacheCounters& t : report.token) sum += t;
    EXPECT_TRUE(sum == report.total()) << spec << ": token counters do not add up";
    EXPECT_GT(report.total().misses, 0) << spec;
    EXPECT_GT(report.total().hits, 0) << spec;
    std::printf("[ info ] %-7s accesses %lld hits %lld misses %lld evictions %lld stall %lld ns\n",
                spec.c_str(), static_cast<long long>(report.total().accesses),
                static_cast<long long>(report.total().hits),
                static_cast<long long>(report.total().misses),
                static_cast<long long>(report.total().evictions),
                static_cast<long long>(report.total().stall_ns));
  }
  // The routing rows' cache outcomes are the primary's hits and misses.
  int64_t hits = 0, misses = 0;
  for (const storage::RoutingEntry& e : reader.routing(run)) {
    hits += storage::is_hit(e.cache);
    misses += storage::is_miss(e.cache);
  }
  const policy::CacheReport primary = reader.policy_report(run, policies[0].at("id").get<int>());
  EXPECT_EQ(hits, primary.total().hits);
  EXPECT_EQ(misses, primary.total().misses);
}

TEST_F(TraceCommands, ReplayReproducesEveryRecordedPolicy) {
  const CliResult r = run_moescope({"replay", "--trace", shared_.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_TRUE(j.at("all_equal").get<bool>());
  storage::TraceReader reader(shared_);
  const json& policies = j.at("policies");
  ASSERT_EQ(policies.size(), reader.policies(1).size());
  for (const json& p : policies) {
    const std::string spec = p.at("spec").get<std::string>();
    EXPECT_TRUE(p.at("equal").get<bool>()) << spec;
    const policy::CacheReport stored = reader.policy_report(1, p.at("id").get<int32_t>());
    expect_report(p.at("replayed"), stored, spec + " replayed");
    expect_report(p.at("recorded"), stored, spec + " recorded");
  }
  // ... and equal to the live counters of the recording.
  for (const json& live : record_json_.at("policies")) {
    for (const json& p : policies) {
      if (p.at("id") == live.at("id")) {
        EXPECT_EQ(p.at("replayed").at("total"), live.at("live").at("total"));
      }
    }
  }

  const CliResult table = run_moescope({"replay", "--trace", shared_.string()});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("| equal |"), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find("| NO |"), std::string::npos) << table.out;
}

// MRS scores the router probabilities: a run with mrs (driving the cache, or as a shadow) records
// the router logits, and replay feeds them back, so every counter replays equal. Without the
// logits (a trace from before) the mismatch message names that cause.
TEST_F(TraceCommands, MrsReplaysToItsLiveCounters) {
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--compare", "mrs,lru"}, std::vector<std::string>{"--policy", "mrs"},
        std::vector<std::string>{"--policy", "lru", "--compare", "mrs-global:0.5"}}) {
    const fs::path trace = dir_ / "mrs.sqlite";
    fs::remove(trace);
    const CliResult rec = run_moescope(record_args(trace, flags));
    ASSERT_EQ(rec.exit_code, 0) << rec.err;
    const CliResult r = run_moescope({"replay", "--trace", trace.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_TRUE(j.at("all_equal").get<bool>()) << flags[1];
    storage::TraceReader reader(trace);
    bool mrs = false;
    for (const json& p : j.at("policies")) {
      const std::string spec = p.at("spec").get<std::string>();
      mrs = mrs || spec.starts_with("mrs");
      EXPECT_TRUE(p.at("equal").get<bool>()) << spec;
      expect_report(p.at("replayed"), reader.policy_report(1, p.at("id").get<int32_t>()), spec);
    }
    EXPECT_TRUE(mrs) << flags[1];
  }
  // The same run without its router logits, as a trace recorded before they were kept for mrs.
  const fs::path trace = dir_ / "mrs.sqlite";
  {
    storage::Database db(trace, storage::Database::Mode::kReadWrite);
    db.exec("DELETE FROM router_logits");
  }
  const CliResult r = run_moescope({"replay", "--trace", trace.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| NO |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("recorded no router logits"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("another MoEScope version"), std::string::npos) << r.out;
}

TEST_F(TraceCommands, RunsListsTheRunWithItsTokenCounts) {
  const CliResult r = run_moescope({"runs", "--trace", shared_.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json runs = json::parse(r.out).at("runs");
  ASSERT_EQ(runs.size(), 1u);
  const json& run = runs[0];
  const json& rec = record_json_;
  EXPECT_EQ(run.at("id"), 1);
  EXPECT_EQ(run.at("status"), "complete");
  EXPECT_EQ(run.at("label"), "shared");
  EXPECT_EQ(run.at("requests"), 1);  // a recorded generation is one request
  EXPECT_EQ(fs::path(run.at("model_path").get<std::string>()).filename(),
            fs::path(MOESCOPE_DEFAULT_MODEL).filename());
  EXPECT_EQ(run.at("prefill_tokens"), rec.at("prompt_tokens"));
  EXPECT_EQ(run.at("decode_tokens"), rec.at("decoded_tokens"));
  EXPECT_EQ(run.at("generated_tokens"), rec.at("generated_tokens"));
  EXPECT_EQ(run.at("routing_entries"), rec.at("routing_entries"));
  EXPECT_EQ(run.at("policies").size(), rec.at("policies").size());
  EXPECT_GT(run.at("duration_s").get<double>(), 0.0);

  const CliResult table = run_moescope({"runs", "--trace", shared_.string()});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(count_lines(table.out), 3) << table.out;  // header, rule, one run
  EXPECT_NE(table.out.find("| 1 | complete | shared |"), std::string::npos) << table.out;
}

TEST_F(TraceCommands, PolicyCapacityGridAgreesWithTheRecordingAndCacheInvariants) {
  storage::TraceReader reader(shared_);
  const policy::MoeShape shape = reader.shape(1);
  const policy::CacheReport primary = reader.policy_report(1, 0);

  // LRU at the recorded capacity is the recorded primary (same capacity, link and compute).
  CliResult r =
      run_moescope({"replay", "--trace", shared_.string(), "--policies", "lru", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json rows = json::parse(r.out).at("rows");
  ASSERT_EQ(rows.size(), 1u);
  expect_counters(rows[0].at("decode"), primary.phase[1], "lru at the recorded capacity");
  expect_counters(rows[0].at("prefill"), primary.phase[0], "lru at the recorded capacity");

  // A sweep: LRU from its one-pass curve, FIFO and Belady simulated, 1 .. all experts per layer.
  r = run_moescope({"replay", "--trace", shared_.string(), "--policies", "lru,fifo,belady",
                    "--sweep", "--json", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rows = json::parse(r.out).at("rows");
  const int32_t max_experts = *std::max_element(shape.n_experts.begin(), shape.n_experts.end());
  ASSERT_EQ(rows.size(), size_t(3 * max_experts));
  std::set<std::pair<int32_t, int32_t>> distinct;
  for (const storage::RoutingEntry& e : reader.routing(1))
    distinct.insert({e.layer.value, e.expert.value});
  auto row = [&](const std::string& policy, int32_t c) -> const json& {
    for (const json& x : rows) {
      if (x.at("policy") == policy && x.at("capacity") == std::to_string(c) + "/layer") return x;
    }
    ADD_FAILURE() << policy << " " << c;
    return rows[0];
  };
  int64_t previous = -1;
  for (int32_t c = 1; c <= max_experts; ++c) {
    const int64_t lru = row("lru", c).at("hits").get<int64_t>();
    EXPECT_GE(lru, previous) << "LRU is a stack algorithm: hits never fall with capacity";
    previous = lru;
    // "belady" on the command line is the old name of belady-bypass.
    EXPECT_GE(row("belady-bypass", c).at("hits").get<int64_t>(), lru) << c;
    EXPECT_EQ(row("lru", c).at("method"), "one-pass curve");
    EXPECT_EQ(row("fifo", c).at("method"), "simulation");
  }
  // Everything resident: only the first use of each expert misses.
  for (const char* p : {"lru", "fifo", "belady-bypass"})
    EXPECT_EQ(row(p, max_experts).at("misses").get<int64_t>(), int64_t(distinct.size())) << p;

  // The one-pass curve equals simulating LRU at the same capacities.
  r = run_moescope({"replay", "--trace", shared_.string(), "--policies", "lru", "--capacities",
                    "1,2,50%", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json simulated = json::parse(r.out).at("rows");
  ASSERT_EQ(simulated.size(), 3u);
  for (int32_t c : {1, 2}) {
    const json& s = simulated[size_t(c - 1)];
    EXPECT_EQ(s.at("method"), "simulation");
    EXPECT_EQ(s.at("hits"), row("lru", c).at("hits")) << c;
    EXPECT_EQ(s.at("misses"), row("lru", c).at("misses")) << c;
    EXPECT_EQ(s.at("bytes_loaded"), row("lru", c).at("bytes_loaded")) << c;
    EXPECT_EQ(s.at("slots").get<int64_t>(), int64_t(c) * shape.n_layers());
  }
  EXPECT_EQ(simulated[2].at("slots").get<int64_t>(),
            std::llround(0.5 * double(shape.total_experts())));
}

TEST_F(TraceCommands, AppendingARunKeepsTheFirst) {
  const fs::path trace = dir_ / "append.sqlite";
  fs::copy_file(shared_, trace);
  policy::CacheReport before_report;
  std::vector<storage::RoutingEntry> before;
  {
    storage::TraceReader reader(trace);
    before = reader.routing(1);
    before_report = reader.policy_report(1, 0);
  }
  const CliResult r = run_moescope(
      record_args(trace, {"--json", "--label", "second", "--seed", "8", "--policy", "fifo"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out).at("run_id"), 2);

  storage::TraceReader reader(trace);
  const auto runs = reader.runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].label, "shared");
  EXPECT_EQ(runs[1].label, "second");
  EXPECT_EQ(runs[1].policies.at(0), "fifo");
  const auto after = reader.routing(1);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].expert, before[i].expert) << i;
    EXPECT_EQ(after[i].weight, before[i].weight) << i;
  }
  EXPECT_TRUE(reader.policy_report(1, 0) == before_report);

  const CliResult list = run_moescope({"runs", "--trace", trace.string(), "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(json::parse(list.out).at("runs").size(), 2u);
  // replay defaults to the newest run; --run picks another.
  const CliResult replay = run_moescope({"replay", "--trace", trace.string(), "--json"});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_EQ(json::parse(replay.out).at("run"), 2);
  EXPECT_TRUE(json::parse(replay.out).at("all_equal").get<bool>());
}

TEST_F(TraceCommands, GenerateWithTraceRecordsLikeRecord) {
  const fs::path trace = dir_ / "generate.sqlite";
  std::vector<std::string> args = record_args(trace, {"--json"});
  args[0] = "generate";
  const CliResult r = run_moescope(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  // Same model, prompt and seed as the shared recording: the same run.
  EXPECT_EQ(j.at("text"), record_json_.at("text"));
  EXPECT_EQ(j.at("routing_entries"), record_json_.at("routing_entries"));
  ASSERT_EQ(j.at("policies").size(), record_json_.at("policies").size());
  for (size_t i = 0; i < j.at("policies").size(); ++i) {
    // Decisions do not depend on time: every count but the modelled stall is the same.
    const json& a = j.at("policies")[i].at("live").at("total");
    const json& b = record_json_.at("policies")[i].at("live").at("total");
    for (const char* field : {"accesses", "hits", "misses", "evictions", "bytes_loaded"})
      EXPECT_EQ(a.at(field), b.at(field)) << field;
  }
  storage::TraceReader reader(trace);
  EXPECT_EQ(reader.runs().size(), 1u);
}

TEST_F(TraceCommands, UnknownPoliciesAndBadFlagsAreUsageErrors) {
  CliResult r = run_moescope({"replay", "--trace", shared_.string(), "--policies", "lru,nosuch"});
  expect_one_line_error(r, 2, "nosuch");
  EXPECT_NE(r.err.find("fifo"), std::string::npos) << "lists the known policies: " << r.err;
  EXPECT_TRUE(r.out.empty());
  expect_one_line_error(run_moescope({"replay", "--trace", shared_.string(), "--capacities", "0"}),
                        2, "0");
  expect_one_line_error(
      run_moescope({"replay", "--trace", shared_.string(), "--capacities", "10%", "--sweep"}), 2);
  expect_one_line_error(run_moescope({"replay", "--trace", shared_.string(), "--run", "abc"}), 2,
                        "abc");
  for (const char* command : {"runs", "replay"})
    expect_one_line_error(run_moescope({command}), 2, "--trace");
  const fs::path never = dir_ / "never.sqlite";
  std::vector<std::string> args = record_args(never);
  args.erase(args.begin() + 1, args.begin() + 3);  // no --trace
  expect_one_line_error(run_moescope(args), 2, "--trace");
  EXPECT_FALSE(fs::exists(never));
}

TEST_F(TraceCommands, MissingCorruptAndTruncatedTracesFailInOneLine) {
  const fs::path missing = dir_ / "missing.sqlite";
  for (const char* command : {"runs", "replay"}) {
    const CliResult r = run_moescope({command, "--trace", missing.string()});
    expect_one_line_error(r, 1, missing.filename().string());
    EXPECT_FALSE(fs::exists(missing)) << command << " created the trace it was to read";
  }

  const fs::path random = dir_ / "random.sqlite";
  {
    std::mt19937 rng(1);
    std::string bytes(64 * 1024, '\0');
    for (char& c : bytes) c = char(rng());
    std::ofstream(random, std::ios::binary) << bytes;
  }
  const fs::path truncated = dir_ / "truncated.sqlite";
  {
    const std::string good = slurp(shared_);
    std::ofstream(truncated, std::ios::binary) << good.substr(0, good.size() / 3);
  }
  for (const fs::path& bad : {random, truncated}) {
    const std::string content = slurp(bad);
    for (std::vector<std::string> args :
         {std::vector<std::string>{"runs", "--trace", bad.string()},
          std::vector<std::string>{"replay", "--trace", bad.string()},
          std::vector<std::string>{"replay", "--trace", bad.string(), "--sweep"}}) {
      const CliResult r = run_moescope(args);
      SCOPED_TRACE(args[0] + " " + bad.filename().string());
      expect_one_line_error(r, 1, bad.filename().string());
    }
    // Recording into it fails too, and leaves the file as it was.
    expect_one_line_error(run_moescope(record_args(bad)), 1, bad.filename().string());
    EXPECT_EQ(slurp(bad), content);
  }
}

TEST_F(TraceCommands, UnknownRunListsTheRuns) {
  const CliResult r = run_moescope({"replay", "--trace", shared_.string(), "--run", "99"});
  expect_one_line_error(r, 1, "99");
  EXPECT_NE(r.err.find("1"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(TraceCommands, RecordingThatCannotStartLeavesNoFile) {
  // An unwritable destination.
  const CliResult r = run_moescope(record_args("/nonexistent/dir/t.sqlite"));
  expect_one_line_error(r, 1, "/nonexistent/dir");
  EXPECT_FALSE(fs::exists("/nonexistent/dir/t.sqlite"));

  // A prompt longer than the context: checked before the trace is created...
  std::string long_prompt;
  for (int i = 0; i < 20; ++i) long_prompt += "the quick brown fox jumps over the lazy dog ";
  const fs::path fresh = dir_ / "too-long.sqlite";
  std::vector<std::string> args = record_args(fresh, {"--ctx", "16"});
  args[6] = long_prompt;  // the --prompt value
  ASSERT_EQ(args[5], "--prompt");
  CliResult r2 = run_moescope(args);
  expect_one_line_error(r2, 1, "context");
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    EXPECT_FALSE(fs::exists(fresh.string() + suffix)) << suffix;

  // ... and an existing trace keeps exactly its runs.
  const fs::path existing = dir_ / "existing.sqlite";
  fs::copy_file(shared_, existing);
  const std::string content = slurp(existing);
  args[2] = existing.string();
  r2 = run_moescope(args);
  expect_one_line_error(r2, 1, "context");
  EXPECT_EQ(slurp(existing), content);
  storage::TraceReader reader(existing);
  EXPECT_EQ(reader.runs().size(), 1u);

  // A store that cannot be built (a missing expert pack) fails before the trace is created.
  const fs::path pack = dir_ / "pack.sqlite";
  expect_one_line_error(run_moescope(record_args(pack, {"--expert-slots", "24", "--expert-pack",
                                                        (dir_ / "no-such.pack").string()})),
                        1);
  EXPECT_FALSE(fs::exists(pack));
}

TEST_F(TraceCommands, CtrlCStopsAfterTheCurrentTokenAndCompletesTheRun) {
  const fs::path trace = dir_ / "interrupted.sqlite";
  const fs::path out = dir_ / "interrupted.json";
  const fs::path err = dir_ / "interrupted.err";
  // A slow link (about 150 tokens/s here) and no length limit short of 3000 tokens: the run is
  // still generating when Ctrl-C comes.
  const pid_t pid = spawn_moescope(
      record_args(trace, {"--json", "-n", "3000", "--link", "emmc", "--seed", "42"}), out, err);
  ASSERT_GT(pid, 0);
  const auto start = std::chrono::steady_clock::now();
  while (!fs::exists(trace) && std::chrono::steady_clock::now() - start < std::chrono::seconds(20))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(kill(pid, SIGINT), 0);
  int status = 0;
  const auto sent = std::chrono::steady_clock::now();
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() - sent > std::chrono::seconds(15)) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      FAIL() << "the recording did not stop after Ctrl-C";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(WIFEXITED(status)) << slurp(err);
  EXPECT_EQ(WEXITSTATUS(status), 0) << slurp(err);
  const json j = json::parse(slurp(out));
  EXPECT_EQ(j.at("stop_reason"), "cancelled");
  EXPECT_TRUE(j.at("stopped_by_user").get<bool>());
  EXPECT_LT(j.at("generated_tokens").get<int>(), 3000);

  storage::TraceReader reader(trace);
  const auto runs = reader.runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, storage::RunStatus::kComplete);
  const json summary = json::parse(reader.run_info(1).summary_json);
  EXPECT_TRUE(summary.at("stopped_by_user").get<bool>());
  EXPECT_EQ(j.at("routing_entries").get<int64_t>(), int64_t(reader.routing(1).size()));
  for (const json& p : j.at("policies"))
    expect_report(p.at("live"), reader.policy_report(1, p.at("id").get<int32_t>()), "interrupted");
}

TEST_F(TraceCommands, RecordingThatFailsMidwayRemovesANewTraceAndKeepsAnOldOne) {
  // The trace outgrows what the file system allows (like a full disk) while recording.
  const fs::path fresh = dir_ / "full.sqlite";
  auto [code, err] =
      run_with_file_limit(record_args(fresh, {"-n", "400", "--quiet"}), 96 * 1024, dir_ / "e1");
  EXPECT_EQ(code, 1) << err;
  EXPECT_EQ(count_lines(err), 1) << err;
  EXPECT_NE(err.find("full.sqlite"), std::string::npos) << err;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    EXPECT_FALSE(fs::exists(fresh.string() + suffix)) << suffix;

  const fs::path existing = dir_ / "full-existing.sqlite";
  fs::copy_file(shared_, existing);
  std::vector<storage::RoutingEntry> before;
  policy::CacheReport before_report;
  {
    storage::TraceReader reader(existing);
    before = reader.routing(1);
    before_report = reader.policy_report(1, 0);
  }
  const auto limit = rlim_t(fs::file_size(existing) + 48 * 1024);
  std::tie(code, err) =
      run_with_file_limit(record_args(existing, {"-n", "400", "--quiet"}), limit, dir_ / "e2");
  EXPECT_EQ(code, 1) << err;
  EXPECT_EQ(count_lines(err), 1) << err;
  storage::TraceReader reader(existing);
  const auto runs = reader.runs();
  ASSERT_GE(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, storage::RunStatus::kComplete);
  // A failed run that recorded tokens stays (interrupted, its data kept); one that recorded none
  // is deleted rather than left as an empty run.
  for (size_t i = 1; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].status, storage::RunStatus::kInterrupted);
    EXPECT_GT(runs[i].n_tokens, 0) << "an empty failed run was left behind";
  }
  const auto after = reader.routing(1);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i].expert, before[i].expert) << i;
  EXPECT_TRUE(reader.policy_report(1, 0) == before_report);
}

}  // namespace
}  // namespace moescope::test
