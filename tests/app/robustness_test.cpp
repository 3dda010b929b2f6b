// Data loss under concurrency and signals, with the real `moescope` binary in separate processes:
// concurrent records creating one trace, SIGKILL right after a run starts, SIGTERM mid-run,
// replay while a record writes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "storage/trace_reader.h"
#include "tests/app/cli_runner.h"

namespace moescope::test {
namespace {

namespace fs = std::filesystem;

class Robustness : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("moescope-robust-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

// `moescope record` of the built-in model; `slow` emulates a slow link so that the run lasts
// seconds (the expert loads are paced).
std::vector<std::string> record_args(const std::string& trace, int n, bool slow) {
  std::vector<std::string> a = {"record", "--trace", trace,       "--model", MOESCOPE_DEFAULT_MODEL,
                                "--quiet", "--temp", "0",         "--threads", "1",
                                "--prompt", "The quick brown fox", "-n",      std::to_string(n)};
  if (slow) a.insert(a.end(), {"--link", "emmc", "--link-bandwidth", "20MB/s"});
  return a;
}

std::string slurp(const std::string& file) {
  std::ifstream f(file, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// One integer from a read-only connection, or `fallback` when the query fails (no table yet, the
// file is being created).
int64_t query(const std::string& file, const std::string& sql, int64_t fallback = -1) {
  sqlite3* db = nullptr;
  int64_t value = fallback;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      value = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return value;
}

// Polls until `sql` returns at least `at_least` (or the deadline passes): returns whether it did.
bool wait_for(const std::string& file, const std::string& sql, int64_t at_least,
              std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    if (fs::exists(file, ec) && query(file, sql, -1) >= at_least) return true;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return false;
}

TEST_F(Robustness, ConcurrentRecordsCreatingOneTraceKeepIt) {
  // Three records start at once on a trace that does not exist: exactly one creates it, the
  // others append; nobody deletes it.
  for (int attempt = 0; attempt < 6; ++attempt) {
    const std::string trace = path("race" + std::to_string(attempt) + ".mst");
    const std::string log = trace + ".log";
    std::vector<int> pids;
    for (int i = 0; i < 3; ++i) pids.push_back(spawn_moescope(record_args(trace, 4, false), log));
    int failures = 0;
    for (int pid : pids) failures += wait_moescope(pid) != 0;
    ASSERT_TRUE(fs::exists(trace)) << "attempt " << attempt << ": the trace was deleted";
    EXPECT_EQ(failures, 0) << "attempt " << attempt << ": " << slurp(log);
    EXPECT_EQ(query(trace, "SELECT count(*) FROM runs WHERE status = 'complete'"), 3)
        << "attempt " << attempt;
  }
}

TEST_F(Robustness, RunKilledRightAfterItStartsKeepsItsPrompt) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::string trace = path("kill" + std::to_string(attempt) + ".mst");
    const int pid = spawn_moescope(record_args(trace, 200, true));
    const bool started = wait_for(trace, "SELECT count(*) FROM runs", 1);
    ::kill(pid, SIGKILL);
    wait_moescope(pid);
    ASSERT_TRUE(started) << "the run never started";
    // Every run row that exists has its prompt text, its prompt tokens and its settings.
    EXPECT_EQ(query(trace, "SELECT count(*) FROM runs WHERE id NOT IN (SELECT run FROM prompts)"),
              0)
        << "attempt " << attempt << ": a run without its prompt";
    EXPECT_EQ(query(trace, "SELECT count(*) FROM prompts WHERE text != 'The quick brown fox' OR "
                           "n_tokens < 1"),
              0)
        << "attempt " << attempt << ": the prompt is not what was given";
    EXPECT_EQ(query(trace, "SELECT count(*) FROM runs WHERE id NOT IN (SELECT run FROM policies)"),
              0)
        << "attempt " << attempt << ": the run's cache policies are missing";
  }
}

TEST_F(Robustness, SigtermFinishesTheRunLikeCtrlC) {
  const std::string trace = path("term.mst");
  const int pid = spawn_moescope(record_args(trace, 200, true), path("term.log"));
  const bool generating = wait_for(trace, "SELECT count(*) FROM tokens WHERE phase = 1", 3);
  ::kill(pid, SIGTERM);
  const int code = wait_moescope(pid);
  ASSERT_TRUE(generating);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(query(trace, "SELECT count(*) FROM runs WHERE status = 'complete'"), 1);
  EXPECT_GT(query(trace, "SELECT count(*) FROM tokens WHERE phase = 1"), 2);
  // Closed cleanly: the WAL was checkpointed into the file and removed.
  EXPECT_FALSE(fs::exists(trace + "-wal"));
}

// Runs moescope through /bin/sh with a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored): every
// write past `kib` KiB fails with EFBIG, like a nearly full disk. Returns the exit code.
int run_with_file_limit(int kib, const std::vector<std::string>& args) {
  std::string cmd = "trap '' XFSZ; ulimit -f " + std::to_string(kib * 2) + "; exec '" +
                    std::string(MOESCOPE_BINARY) + "'";
  for (const std::string& a : args) cmd += " '" + a + "'";
  cmd += " 2>/dev/null";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(Robustness, ReportOnAFullDiskFailsAndKeepsTheOldFile) {
  const std::string trace = path("r.mst");
  record_default_model(trace, {"--prompt", "Once upon a time", "-n", "16"});
  for (const char* name : {"old.pdf", "old.html"}) {
    const std::string out = path(name);
    {
      std::ofstream f(out);
      f << "the previous report";
    }
    EXPECT_EQ(run_with_file_limit(8, {"report", "--trace", trace, "--out", out, "--quiet"}), 1)
        << name;
    EXPECT_TRUE(slurp(out) == "the previous report") << name << ": the old file was replaced";
    // Without the limit it works (the limit was the only reason to fail).
    EXPECT_EQ(run_with_file_limit(1 << 20, {"report", "--trace", trace, "--out", out, "--quiet"}),
              0)
        << name;
    EXPECT_TRUE(slurp(out).size() > 1000) << name;
  }
  // No temporary file is left behind.
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_NE(entry.path().filename().string()[0], '.') << entry.path();
  }
}

TEST_F(Robustness, PackAndLogitsUseUniqueTemporaries) {
  // A file named like the old fixed temporary (OUT.tmp) belongs to someone else: untouched.
  const std::string pack = path("experts.pack");
  const std::string logits = path("logits.f32");
  for (const std::string& out : {pack, logits}) {
    std::ofstream f(out + ".tmp");
    f << "not yours";
  }
  // Two packs of one destination at once: both succeed, the result is a valid pack.
  std::vector<int> pids;
  for (int i = 0; i < 2; ++i) {
    pids.push_back(spawn_moescope({"pack", MOESCOPE_DEFAULT_MODEL, "--out", pack, "--level", "1"}));
  }
  for (int pid : pids) EXPECT_EQ(wait_moescope(pid), 0);
  const CliResult verify = run_moescope({"record", "--trace", path("p.mst"), "--model",
                                         MOESCOPE_DEFAULT_MODEL, "--quiet", "--prompt", "Hello",
                                         "-n", "4", "--expert-pack", pack});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_EQ(run_moescope({"eval", "--prompt", "Hello there", "--dump-logits", logits}).exit_code,
            0);
  EXPECT_GT(fs::file_size(logits), 0u);
  for (const std::string& out : {pack, logits}) {
    EXPECT_EQ(slurp(out + ".tmp"), "not yours") << out;
  }
  // Nothing else is left behind.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    files += entry.path().filename().string()[0] == '.';
  }
  EXPECT_EQ(files, 0);
}

TEST_F(Robustness, ReadersDuringARecordSeeAConsistentRun) {
  // replay, report and export read the run being recorded: each sees one snapshot of it (a
  // consistent prefix), never a "damaged" mix of two moments.
  const std::string trace = path("live.mst");
  const int pid = spawn_moescope(record_args(trace, 200, true), path("live.log"));
  ASSERT_TRUE(wait_for(trace, "SELECT count(*) FROM tokens WHERE phase = 1", 2));
  int reads = 0;
  std::string errors;
  while (::waitpid(pid, nullptr, WNOHANG) == 0 && reads < 40) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"replay", "--trace", trace, "--quiet"},
          std::vector<std::string>{"export", "--trace", trace, "--format", "csv", "--out",
                                   path("live.csv"), "--quiet"}}) {
      const CliResult r = run_moescope(args);
      ++reads;
      if (r.exit_code != 0) errors += args[0] + ": " + r.err;
    }
  }
  ::kill(pid, SIGKILL);
  wait_moescope(pid);
  EXPECT_GT(reads, 4);
  EXPECT_EQ(errors, "");
}

TEST_F(Robustness, AReaderHoldsOneSnapshotWhileARecordWrites) {
  // The writer is a real `moescope record`; within one snapshot every read sees the same run,
  // however many commits the writer makes meanwhile, so the run's rows always fit each other.
  const std::string trace = path("snap.mst");
  const int pid = spawn_moescope(record_args(trace, 200, true));
  ASSERT_TRUE(wait_for(trace, "SELECT count(*) FROM tokens WHERE phase = 1", 2));
  storage::TraceReader reader(trace);
  reader.hold_snapshot();
  const int64_t run = reader.latest_run();
  const size_t tokens = reader.tokens(run).size();
  const size_t routing = reader.routing(run).size();
  // The writer commits at least every 250 ms.
  ASSERT_TRUE(wait_for(trace, "SELECT count(*) FROM tokens", int64_t(tokens) + 3));
  EXPECT_EQ(reader.tokens(run).size(), tokens);
  EXPECT_EQ(reader.routing(run).size(), routing);
  EXPECT_EQ(reader.routing_trace(run).n_tokens(), int64_t(tokens));
  ::kill(pid, SIGKILL);
  wait_moescope(pid);
}

TEST_F(Robustness, ReplayCallsChangedCountersDamageNotAnotherVersion) {
  const std::string trace = path("changed.mst");
  record_default_model(trace, {"--prompt", "Once upon a time", "-n", "12"});
  ASSERT_EQ(run_moescope({"replay", "--trace", trace}).exit_code, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(trace.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE policy_layers SET hits = hits + 1 WHERE layer = 0", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const CliResult r = run_moescope({"replay", "--trace", trace});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is damaged"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("another MoEScope version"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace moescope::test
