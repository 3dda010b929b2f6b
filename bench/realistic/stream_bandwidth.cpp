#include "bench/realistic/stream_bandwidth.h"

#include <immintrin.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace moescope::bench {
namespace {

// 256-bit loads into four independent accumulators, so that neither the adds nor the load width
// limit a core's read rate (as the decode kernels' AVX2 paths read weights).
__attribute__((target("avx2"))) uint64_t sum_avx2(const uint64_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_add_epi64(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
    a2 = _mm256_add_epi64(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
    a3 = _mm256_add_epi64(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
  }
  const __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s);
  uint64_t total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < n; ++i) total += p[i];
  return total;
}

uint64_t sum_plain(const uint64_t* p, size_t n) {
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 += p[i];
    a1 += p[i + 1];
    a2 += p[i + 2];
    a3 += p[i + 3];
  }
  for (; i < n; ++i) a0 += p[i];
  return a0 + a1 + a2 + a3;
}

uint64_t sum(const uint64_t* p, size_t n) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2 ? sum_avx2(p, n) : sum_plain(p, n);
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

}  // namespace

Bandwidth read_bandwidth(int threads, size_t buffer_bytes, size_t pass_bytes, int passes) {
  threads = std::max(1, threads);
  const size_t n = buffer_bytes / sizeof(uint64_t) / 64 * 64;
  std::unique_ptr<uint64_t, FreeDeleter> buffer(
      static_cast<uint64_t*>(std::aligned_alloc(64, n * sizeof(uint64_t))));
  if (!buffer) return {};
  uint64_t* data = buffer.get();
  for (size_t i = 0; i < n; ++i) data[i] = i;  // touch every page before timing

  const size_t slices = std::max<size_t>(1, buffer_bytes / pass_bytes);
  const size_t slice = n / slices / 64 * 64;  // values per pass
  const size_t per_thread = slice / size_t(threads) / 16 * 16;
  std::vector<uint64_t> sums(static_cast<size_t>(threads));
  std::vector<double> cpu_seconds(static_cast<size_t>(threads));
  Bandwidth best;
  for (int pass = 0; pass < passes; ++pass) {
    const uint64_t* base = data + size_t(pass) % slices * slice;
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        const double cpu_start = thread_cpu_seconds();
        sums[size_t(t)] = sum(base + size_t(t) * per_thread, per_thread);
        cpu_seconds[size_t(t)] = thread_cpu_seconds() - cpu_start;
      });
    }
    for (auto& w : workers) w.join();
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double bytes = double(per_thread * size_t(threads) * sizeof(uint64_t));
    best.wall = std::max(best.wall, bytes / s);
    best.cpu =
        std::max(best.cpu, bytes / *std::max_element(cpu_seconds.begin(), cpu_seconds.end()));
    // The sums are checked so that the reads cannot be optimised away: data[i] == i.
    const uint64_t first = uint64_t(base - data), count = per_thread * size_t(threads);
    uint64_t total = 0;
    for (uint64_t s_t : sums) total += s_t;
    if (total != (2 * first + count - 1) * count / 2) {
      std::fprintf(stderr, "stream: wrong sum in pass %d\n", pass);
    }
  }
  return best;
}

}  // namespace moescope::bench
