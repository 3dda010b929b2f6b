#pragma once
// Wall time, CPU time and peak RSS of one part of a harness run, printed on one line.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>

namespace moescope::bench {

// CPU time of the process (user + system): on a shared machine the wall time mostly measures
// the other processes.
inline double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

inline double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;
}

// Runs f() and prints "what  wall .. s  cpu .. s  peak RSS .. MB".
template <typename F>
void timed(const char* what, F f) {
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  f();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%-26s wall %8.3f s  cpu %8.3f s  peak RSS %6.0f MB\n", what, wall,
              cpu_seconds() - c0, peak_rss_mb());
  std::fflush(stdout);
}

}  // namespace moescope::bench
