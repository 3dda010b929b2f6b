// Data loss under concurrency and signals, with the real `moescope` binary in separate processes:
// concurrent records creating one trace, SIGKILL right after a run starts, SIGTERM mid-run,
// replay while a record writes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

}  // namespace
}  // namespace moescope::test
