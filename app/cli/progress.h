#pragma once
// A one-line progress bar on stderr for long CLI work (record, replay --sweep, report, export).
// It draws only when stderr is a terminal and --quiet was not given, redraws at most 10 times a
// second, and erases itself when done so that the command's real output stays clean.
#include <chrono>
#include <cstdint>
#include <string>

namespace moescope::cli {

class Progress {
 public:
  // total 0: unknown (shows the count only).
  Progress(std::string label, int64_t total, bool quiet);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void set_total(int64_t total) { total_ = total; }
  void update(int64_t done);
  void advance(int64_t n = 1) { update(done_ + n); }
  // Erases the bar (also done by the destructor).
  void finish();

  bool visible() const { return enabled_; }

 private:
  void draw();

  std::string label_;
  int64_t total_ = 0;
  int64_t done_ = 0;
  bool enabled_ = false;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace moescope::cli
