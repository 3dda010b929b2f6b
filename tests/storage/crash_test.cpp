// Crash safety for real: a child process records decode tokens, is killed with SIGKILL mid-run,
// and the trace it leaves must open, hold every token committed (at most ~1 s lost) with complete
// routing, and show the run as interrupted.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "storage/sqlite_db.h"
#include "storage/trace_reader.h"
#include "tests/storage/crash_workload.h"

extern char** environ;

namespace moescope::storage {
namespace {

using Clock = std::chrono::steady_clock;

struct Report {
  Clock::time_point received;
  int64_t committed = 0;
  int64_t produced = 0;
};

class Child {
 public:
  explicit Child(const std::filesystem::path& trace) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::string exe = STORAGE_CRASH_CHILD, arg = trace.string();
    char* argv[] = {exe.data(), arg.data(), nullptr};
    const int rc = posix_spawn(&pid_, exe.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    fd_ = fds[0];
    if (rc != 0) throw std::runtime_error("cannot start " + exe);
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(fd_);
  }

  // The next complete line, or "" when `deadline` passes or the pipe is closed.
  std::string line(Clock::time_point deadline) {
    for (;;) {
      const size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string l = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return l;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return "";
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, int(left.count())) <= 0) return "";
      char chunk[4096];
      const ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n <= 0) return "";
      buffer_.append(chunk, size_t(n));
    }
  }

  int kill_and_wait() {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
};

bool parse(const std::string& line, Report& r) {
  long long c = 0, p = 0;
  if (std::sscanf(line.c_str(), "committed %lld produced %lld", &c, &p) != 2) return false;
  r.committed = c;
  r.produced = p;
  r.received = Clock::now();
  return true;
}

TEST(StorageCrash, SigkillLeavesAnInterruptedRunWithEveryCommittedToken) {
  const auto path = test::temp_path("crash.sqlite");
  std::vector<Report> reports;
  Clock::time_point killed;
  {
    Child child(path);
    ASSERT_EQ(child.line(Clock::now() + std::chrono::seconds(30)), "ready");
    const auto kill_at = Clock::now() + std::chrono::milliseconds(1500);
    for (std::string l; !(l = child.line(kill_at)).empty();) {
      Report r;
      if (parse(l, r)) reports.push_back(r);
    }
    killed = Clock::now();
    const int status = child.kill_and_wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exited early";
    // Lines written before the kill but not read yet: their counts still hold.
    for (std::string l; !(l = child.line(Clock::now() + std::chrono::milliseconds(200))).empty();) {
      Report r;
      if (parse(l, r)) reports.push_back(r);
    }
  }
  ASSERT_FALSE(reports.empty());
  int64_t committed = 0, produced_1s_before = 0;
  for (const Report& r : reports) {
    committed = std::max(committed, r.committed);
    if (r.received <= killed - std::chrono::seconds(1)) {
      produced_1s_before = std::max(produced_1s_before, r.produced);
    }
  }
  ASSERT_GT(produced_1s_before, 0);

  // The reader opens the killed recording as it is (WAL and all, read-only).
  ASSERT_TRUE(std::filesystem::exists(path.string() + "-wal"));
  TraceReader reader(path);
  const auto runs = reader.runs();
  ASSERT_EQ(runs.size(), 1u);
  const int64_t run = runs[0].id;
  EXPECT_EQ(runs[0].status, RunStatus::kInterrupted);
  EXPECT_EQ(reader.run_info(run).ended_unix_ns, 0);

  // Every committed token is there, and nothing older than a second was lost.
  const int64_t n = runs[0].n_forwarded;
  EXPECT_GE(n, committed);
  EXPECT_GE(n, produced_1s_before);
  EXPECT_GE(n, 300);

  // Tokens 0..n-1 with complete routing: n x layers x k rows, each as the child made it.
  const policy::RoutingTrace trace = reader.routing_trace(run);
  ASSERT_EQ(trace.n_tokens(), n);
  EXPECT_EQ(reader.routing(run).size(), size_t(n * test::kCrashLayers * test::kCrashTopK));
  for (int32_t t = 0; t < int32_t(n); ++t) {
    ASSERT_EQ(trace.token_id[size_t(t)], t % 4096);
    for (int32_t l = 0; l < test::kCrashLayers; ++l) {
      const auto r = trace.routing(TokenPos(t), MoeLayerId(l));
      ASSERT_EQ(r.experts.size(), 2u);
      for (int32_t k = 0; k < 2; ++k) {
        ASSERT_EQ(r.experts[size_t(k)], test::crash_expert(t, l, k)) << t << " " << l;
        ASSERT_EQ(r.weights[size_t(k)], test::crash_weight(t, l, k));
      }
    }
  }
  // The aggregates of an interrupted run come from its rows.
  EXPECT_EQ(reader.layer_aggregates(run)[0].tokens, n);
  {
    Database db(path, Database::Mode::kReadWrite);
    Statement check(db, "PRAGMA integrity_check");
    ASSERT_TRUE(check.step());
    EXPECT_EQ(check.text(0), "ok");
  }

  // A later recording appends to the recovered file.
  {
    TraceWriter writer(path);
    writer.begin_run(test::crash_run_info());
    TraceObserver observer(writer);
    for (int32_t pos = 0; pos < 10; ++pos) test::crash_forward(writer, observer, pos);
    writer.finish_run();
  }
  TraceReader again(path);
  ASSERT_EQ(again.runs().size(), 2u);
  EXPECT_EQ(again.runs()[0].n_forwarded, n);
  EXPECT_EQ(again.runs()[1].status, RunStatus::kComplete);
}

}  // namespace
}  // namespace moescope::storage
