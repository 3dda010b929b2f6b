#pragma once
// This machine's memory read bandwidth, measured as STREAM measures it: threads each sum their
// part of a slice far larger than the caches; the best of many passes counts. It is the bound for
// decode speed: a decode token must read its weight bytes at least once. On a shared, loaded
// machine a pass is descheduled as often as anything else; short passes (128 MiB, a few ms) over
// a rotating 1 GiB buffer make it likely that the best one ran on a core of its own.
#include <cstddef>

namespace moescope::bench {

struct Bandwidth {
  double wall = 0.0;  // bytes per second of wall time (STREAM's figure), best pass
  // Bytes per second of the slowest thread's CPU time, best pass: what the memory delivers while
  // the threads run. Above `wall` when other processes share the cores.
  double cpu = 0.0;
};

// Bytes per second read by `threads` threads, each pass over `pass_bytes` of a `buffer_bytes`
// buffer (best of `passes`).
Bandwidth read_bandwidth(int threads, size_t buffer_bytes = size_t(1) << 30,
                         size_t pass_bytes = size_t(128) << 20, int passes = 40);

}  // namespace moescope::bench
