// Hostile inputs to the real binary: endless and special files as inputs, FIFOs as traces,
// deeply nested JSON and megabyte labels in a trace, messages that echo bytes and huge arguments,
// and the expert budget's spelling. Every case must end quickly with one line and the right exit
// code (or a complete report), never hang, crash or leave temporaries behind.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/common/printable.h"
#include "tests/app/cli_runner.h"

namespace moescope::test {
namespace {

namespace fs = std::filesystem;

const std::string kModel =
    std::string(MOESCOPE_SHARED_DIR) + "/reference/models/llama-moe-q8_0.gguf";

const fs::path& scratch() {
  return test::scratch_dir("moescope-hostile-input");
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out.append("'\\''");
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

// Appends one shell-quoted word.
void args_to(std::string& cmd, const std::string& word) {
  cmd.push_back(' ');
  cmd.append(quoted(word));
}

// Runs the binary under `timeout`: a command that blocks fails (exit 124) instead of hanging the
// suite.
CliResult run_limited(const std::vector<std::string>& args, int seconds = 60) {
  const fs::path out = scratch() / "limited.out";
  const fs::path err = scratch() / "limited.err";
  std::string cmd = "timeout -s KILL " + std::to_string(seconds);
  args_to(cmd, moescope_binary());
  for (const auto& a : args) args_to(cmd, a);
  cmd.append(" </dev/null >").append(quoted(out.string()));
  cmd.append(" 2>").append(quoted(err.string()));
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (r.exit_code == 137 || r.exit_code == 124) r.exit_code = -1;  // killed by timeout
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

const std::string& recorded_trace() {
  static const std::string trace = [] {
    const std::string path = (scratch() / "base.trace").string();
    const CliResult r =
        run_moescope({"record", "--model", kModel, "--prompt", "Hello there", "-n", "4", "--temp",
                      "0", "--threads", "2", "--trace", path, "--quiet"});
    if (r.exit_code != 0) throw std::runtime_error("record failed: " + r.err);
    return path;
  }();
  return trace;
}

// A copy of the recorded trace with one SQL statement applied.
std::string trace_with(const std::string& name, const std::string& sql) {
  const fs::path path = scratch() / (name + ".trace");
  fs::copy_file(recorded_trace(), path, fs::copy_options::overwrite_existing);
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
  return path.string();
}

std::vector<fs::path> leftovers(const fs::path& dir, const std::string& keep) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(keep) == 0 && name != keep) out.push_back(e.path());
  }
  return out;
}

// ---- Endless and special files as text inputs ----------------------------------------------

TEST(HostileInput, DeviceFilesAndDirectoriesAsTextInputsFailWithOneLine) {
  const std::string dir = scratch().string();
  const std::vector<std::vector<std::string>> cases = {
      {"generate", "--model", kModel, "--prompt-file", "/dev/zero", "-n", "1"},
      {"generate", "--model", kModel, "--prompt-file", "/dev/urandom", "-n", "1"},
      {"generate", "--model", kModel, "--prompt-file", dir, "-n", "1"},
      {"perplexity", "--model", kModel, "--file", "/dev/zero"},
      {"perplexity", "--model", kModel, "--file", "/dev/urandom"},
      {"tokenize", "--model", kModel, "--file", "/dev/zero"},
      {"eval", "--model", kModel, "--tokens", "/dev/zero", "--dump-logits",
       (scratch() / "l.bin").string()},
      {"eval", "--model", kModel, "--tokens", "/dev/urandom", "--dump-logits",
       (scratch() / "l.bin").string()},
      {"eval", "--model", kModel, "--tokens", dir, "--dump-logits", (scratch() / "l.bin").string()},
  };
  for (const auto& args : cases) {
    SCOPED_TRACE(args[0] + " " + args[3] + " " + args[4]);
    const CliResult r = run_limited(args, 30);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_TRUE(r.err.find("device") != std::string::npos ||
                r.err.find("directory") != std::string::npos)
        << r.err;
  }
}

// A pipe that never ends is read up to the limit and one byte more, then refused.
TEST(HostileInput, EndlessPipeIsReadOnlyUpToTheLimit) {
  const fs::path fifo = scratch() / "endless.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const pid_t writer = fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    signal(SIGPIPE, SIG_DFL);
    execlp("sh", "sh", "-c", ("exec cat /dev/zero > " + quoted(fifo.string())).c_str(), nullptr);
    _exit(127);
  }
  const CliResult r = run_limited({"tokenize", "--model", kModel, "--file", fifo.string()}, 60);
  kill(writer, SIGKILL);
  waitpid(writer, nullptr, 0);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("more than"), std::string::npos) << r.err;
}

// ---- Non-regular files as traces and models ------------------------------------------------

TEST(HostileInput, FifoOrDeviceAsTraceOrModelIsRefusedBeforeOpening) {
  const fs::path fifo = scratch() / "trace.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string out = (scratch() / "fifo-report.html").string();
  for (const std::string& trace : {fifo.string(), std::string("/dev/zero")}) {
    const std::vector<std::vector<std::string>> cases = {
        {"runs", "--trace", trace},
        {"replay", "--trace", trace},
        {"report", "--trace", trace, "--out", out},
        {"export", "--trace", trace, "--format", "json", "--out", out},
        {"record", "--model", kModel, "--prompt", "Hi", "-n", "1", "--trace", trace, "--quiet"},
        {"generate", "--model", kModel, "--prompt", "Hi", "-n", "1", "--trace", trace, "--quiet"},
        {"inspect", trace},
        {"generate", "--model", trace, "--prompt", "Hi", "-n", "1"},
    };
    for (const auto& args : cases) {
      SCOPED_TRACE(args[0] + " " + trace);
      const CliResult r = run_limited(args, 30);
      EXPECT_EQ(r.exit_code, 1) << r.err;
      EXPECT_EQ(count_lines(r.err), 1) << r.err;
    }
  }
  EXPECT_FALSE(fs::exists(out));
}

// ---- Hostile contents of a trace ---------------------------------------------------------------

TEST(HostileInput, DeeplyNestedSettingsJsonNeitherCrashesNorLeavesTemporaries) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  const std::string trace = trace_with("nested", "UPDATE runs SET settings = '" + deep + "'");
  const fs::path dir = scratch() / "nested-out";
  fs::create_directories(dir);
  for (const std::string name : {"r.html", "r.pdf"}) {
    const CliResult r = run_limited({"report", "--trace", trace, "--out", (dir / name).string()});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_TRUE(fs::exists(dir / name)) << name;
    EXPECT_TRUE(leftovers(dir, name).empty()) << name;
  }
  const CliResult r = run_limited(
      {"export", "--trace", trace, "--format", "json", "--out", (dir / "e.json").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(leftovers(dir, "e.json").empty());
  // The settings are kept as a string: the document stays valid JSON.
  EXPECT_NE(slurp(dir / "e.json").find("\"settings\":\"[[["), std::string::npos);
}

TEST(HostileInput, MegabyteLabelAndPromptAreShortenedInTheReport) {
  const std::string huge(1500000, 'L');
  const std::string trace = trace_with(
      "label", "UPDATE runs SET label = '" + huge + "'; UPDATE prompts SET text = '" + huge + "'");
  const fs::path html = scratch() / "label.html";
  const fs::path pdf = scratch() / "label.pdf";
  // Generous: an unbounded layout takes over ten minutes.
  CliResult r = run_limited({"report", "--trace", trace, "--out", pdf.string()}, 120);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_limited({"report", "--trace", trace, "--out", html.string()}, 120);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string text = slurp(html);
  EXPECT_LT(text.size(), size_t(1000000));
  EXPECT_NE(text.find("shortened"), std::string::npos);
}

// ---- Messages --------------------------------------------------------------------------------

TEST(HostileInput, MessagesEscapeBytesAndShortenHugeArguments) {
  const std::string huge(3000, 'x');
  CliResult r = run_limited({"generate", "--model", kModel, "--expert-budget", huge});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(count_lines(r.err), 1);
  EXPECT_LT(r.err.size(), size_t(400)) << r.err;
  EXPECT_NE(r.err.find("…"), std::string::npos) << r.err;

  r = run_limited({"generate", "--model", kModel, "--expert-budget", "12\x1b[31mred\x01"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\x01'), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\\x1b"), std::string::npos) << r.err;
}

TEST(PrintableMessage, EscapesShortensAndKeepsUtf8) {
  EXPECT_EQ(printable_message("a\nb\t\tc"), "a b c");
  EXPECT_EQ(printable_message("bad \xff\x01 byte"), "bad \\xff\\x01 byte");
  EXPECT_EQ(printable_message("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(printable_message("overlong \xc0\xaf"), "overlong \\xc0\\xaf");
  const std::string word(kMaxEchoedWord + 1, 'w');
  EXPECT_EQ(printable_message("x '" + word + "' y"),
            "x '" + std::string(kEchoedWordKept - 1, 'w') + "… y");
  EXPECT_LE(printable_message(std::string(5000, 'a') + " " + std::string(5000, 'b')).size(),
            kMaxMessageBytes + 3);
}

TEST(HostileInput, SqliteErrorsNameTheStatement) {
  // A trace whose schema SQLite cannot parse: the message must name what was being done and
  // show the damaged bytes escaped.
  const std::string trace =
      trace_with("schema",
                 "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'CREATE TABLE \x01"
                 "broken(' WHERE name = 'runs'; PRAGMA writable_schema = OFF;");
  const CliResult r = run_limited({"runs", "--trace", trace});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.find("running :"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\x01'), std::string::npos) << r.err;

  // A trace claiming the first schema although it has the second: the upgrade's statement fails,
  // and its message must say which statement (its SQL starts with a newline).
  const std::string v1 = trace_with("v1", "PRAGMA user_version = 1");
  const CliResult upgrade = run_limited(
      {"record", "--model", kModel, "--prompt", "Hi", "-n", "1", "--trace", v1, "--quiet"});
  EXPECT_EQ(upgrade.exit_code, 1) << upgrade.err;
  EXPECT_EQ(upgrade.err.find("running :"), std::string::npos) << upgrade.err;
  EXPECT_NE(upgrade.err.find("running ALTER TABLE tokens ADD COLUMN kind INTEGER:"),
            std::string::npos)
      << upgrade.err;
}

// ---- --expert-budget ---------------------------------------------------------------------------

TEST(HostileInput, ExpertBudgetEmptyIsUsageErrorAndPercentIsAShare) {
  CliResult r = run_limited(
      {"generate", "--model", kModel, "--prompt", "Hi", "-n", "1", "--expert-budget", ""});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--expert-budget"), std::string::npos) << r.err;
  for (const char* bad : {"0%", "101%", "x%"}) {
    r = run_limited({"bench", "--model", kModel, "--expert-budget", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
  }
  r = run_limited({"generate", "--model", kModel, "--prompt", "Hi", "-n", "2", "--temp", "0",
                   "--threads", "2", "--expert-budget", "50%", "--json", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"slots\""), std::string::npos) << r.out;
  const std::string trace = (scratch() / "share.trace").string();
  r = run_limited({"record", "--model", kModel, "--prompt", "Hi", "-n", "2", "--temp", "0",
                   "--threads", "2", "--expert-budget", "10%", "--trace", trace, "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_limited({"replay", "--trace", trace, "--capacities", "10%,25%", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace moescope::test
