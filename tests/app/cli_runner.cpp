#include "tests/app/cli_runner.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

extern char** environ;

namespace moescope::test {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

const std::filesystem::path& scratch_dir(const std::string& prefix) {
  struct Dir {
    std::filesystem::path path;
    explicit Dir(const std::string& prefix)
        : path(std::filesystem::temp_directory_path() /
               (prefix + "-" + std::to_string(getpid()))) {
      std::filesystem::remove_all(path);
      std::filesystem::create_directories(path);
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir(prefix);
  return dir.path;
}

std::string moescope_binary() {
  const char* other = std::getenv("MOESCOPE_TEST_BINARY");
  return other != nullptr && *other != '\0' ? std::string(other) : std::string(MOESCOPE_BINARY);
}

namespace {

// A NULL-terminated char* array over strings it owns (argv, envp for posix_spawn).
class CStrings {
 public:
  explicit CStrings(std::vector<std::string> strings) : strings_(std::move(strings)) {
    for (auto& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  char** get() { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

CStrings moescope_argv(const std::vector<std::string>& args) {
  std::vector<std::string> all = {moescope_binary()};
  all.insert(all.end(), args.begin(), args.end());
  return CStrings(std::move(all));
}

}  // namespace

CliResult run_moescope(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  char out_path[] = "/tmp/moescope-cli-out-XXXXXX";
  char err_path[] = "/tmp/moescope-cli-err-XXXXXX";
  const int out_fd = mkstemp(out_path);
  const int err_fd = mkstemp(err_path);

  CStrings argv = moescope_argv(args);
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "QT_QPA_PLATFORM=", 16) == 0) continue;
    env_s.emplace_back(*e);
  }
  env_s.insert(env_s.end(), env.begin(), env.end());
  CStrings envp(std::move(env_s));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);

  CliResult result;
  pid_t pid = 0;
  if (posix_spawn(&pid, argv.get()[0], &actions, nullptr, argv.get(), envp.get()) == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  }
  posix_spawn_file_actions_destroy(&actions);
  close(out_fd);
  close(err_fd);
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  std::remove(out_path);
  std::remove(err_path);
  return result;
}

int spawn_moescope(const std::vector<std::string>& args, const std::string& log) {
  CStrings argv = moescope_argv(args);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string out = log.empty() ? "/dev/null" : log;
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv.get()[0], &actions, nullptr, argv.get(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + std::string(MOESCOPE_BINARY));
  return pid;
}

int wait_moescope(int pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void record_default_model(const std::string& trace, const std::vector<std::string>& flags) {
  std::vector<std::string> args = {"record",  "--trace", trace, "--model",   MOESCOPE_DEFAULT_MODEL,
                                   "--quiet", "--temp",  "0",   "--threads", "2"};
  args.insert(args.end(), flags.begin(), flags.end());
  const CliResult r = run_moescope(args);
  if (r.exit_code != 0) {
    throw std::runtime_error("moescope record failed (" + std::to_string(r.exit_code) +
                             "): " + r.err);
  }
}

int count_lines(const std::string& text) {
  int n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || i + 1 == text.size()) ++n;
  }
  return n;
}

}  // namespace moescope::test
