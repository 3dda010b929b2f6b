#include "app/cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace moescope::cli {

Progress::Progress(std::string label, int64_t total, bool quiet)
    : label_(std::move(label)), total_(total), enabled_(!quiet && isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() {
  finish();
}

void Progress::update(int64_t done) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool complete = total_ > 0 && done_ >= total_;
  if (drawn_ && !complete && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw();
}

void Progress::draw() {
  constexpr int kWidth = 30;
  if (total_ > 0) {
    const double share = std::clamp(double(done_) / double(total_), 0.0, 1.0);
    const int filled = int(share * kWidth);
    std::string bar(size_t(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r%s [%s] %3d%% %lld/%lld", label_.c_str(), bar.c_str(),
                 int(share * 100.0), static_cast<long long>(done_), static_cast<long long>(total_));
  } else {
    std::fprintf(stderr, "\r%s %lld", label_.c_str(), static_cast<long long>(done_));
  }
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (!drawn_) return;
  // ANSI "erase line": the terminal is known to be one (isatty above).
  std::fprintf(stderr, "\r\033[2K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace moescope::cli
