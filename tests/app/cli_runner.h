#pragma once
// Runs the real `moescope` binary from a test and captures what it did.
#include <filesystem>
#include <string>
#include <vector>

namespace moescope::test {

struct CliResult {
  int exit_code = -1;  // -1: did not exit normally (crashed, killed)
  std::string out;
  std::string err;
};

// The binary under test: $MOESCOPE_TEST_BINARY when set (e.g. to check that a test fails with
// another build), else the one built with the tests.
std::string moescope_binary();

// Runs moescope_binary() with args (no shell), with QT_QPA_PLATFORM unset unless `env` sets it.
// env: extra "NAME=VALUE" entries.
CliResult run_moescope(const std::vector<std::string>& args,
                       const std::vector<std::string>& env = {});

// Starts MOESCOPE_BINARY with args (no shell) without waiting; its output goes to `log` (or
// /dev/null when empty). Returns the child's pid; throws std::runtime_error when it cannot start.
int spawn_moescope(const std::vector<std::string>& args, const std::string& log = {});
// Waits for a child started by spawn_moescope: its exit code, or -1 when a signal ended it.
int wait_moescope(int pid);

// Records a greedy generation of the built-in model into `trace` with `moescope record --quiet
// --temp 0 --threads 2` and the given flags (prompt, cache, policies); throws std::runtime_error
// with the command's stderr when it fails.
void record_default_model(const std::string& trace, const std::vector<std::string>& flags);

// This test process's scratch directory, /tmp/PREFIX-PID: created empty on the first call,
// removed at exit. A process has one (later prefixes are ignored).
const std::filesystem::path& scratch_dir(const std::string& prefix);

// A whole file's bytes ("" when it cannot be read).
std::string slurp(const std::filesystem::path& path);

// Number of lines of `text` (a trailing newline does not start a line).
int count_lines(const std::string& text);

}  // namespace moescope::test
