#include "engine/tensor/thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace moescope {
namespace {

// Index of the pool thread running on this OS thread while it executes a range, else -1.
thread_local int tls_thread_index = -1;

// Long enough to bridge the gap between the matmuls of one layer, short enough that an idle engine
// gives its cores back almost at once.
constexpr auto kSpinTime = std::chrono::microseconds(100);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Waits until `value` differs from `old`: spins for kSpinTime, then sleeps on the atomic.
template <typename T>
void spin_then_wait(const std::atomic<T>& value, T old) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (int i = 0;; ++i) {
    if (value.load(std::memory_order_acquire) != old) return;
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) break;
  }
  while (value.load(std::memory_order_acquire) == old) value.wait(old, std::memory_order_acquire);
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  workers_.reserve(n_threads_ - 1);
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_main(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& w : workers_) w.join();
}

bool ThreadPool::run_available(int thread) {
  bool ran = false;
  uint64_t v = claim_.load(std::memory_order_acquire);
  while (true) {
    const uint64_t next = v & kIndexMask;
    const uint64_t ranges = (v >> kIndexBits) & kIndexMask;
    if (next >= ranges) return ran;
    if (!claim_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) continue;
    // The claim succeeded, so the job is still live and its fields are stable until this range
    // is counted in done_.
    const auto index = static_cast<int64_t>(next);
    const int64_t begin = job_n_ * index / static_cast<int64_t>(ranges);
    const int64_t end = job_n_ * (index + 1) / static_cast<int64_t>(ranges);
    const int saved = tls_thread_index;
    tls_thread_index = thread;
    try {
      job_fn_(begin, end, thread);
    } catch (...) {
      std::lock_guard lock(error_mutex_);
      if (!job_error_) job_error_ = std::current_exception();
    }
    tls_thread_index = saved;
    ran = true;
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == ranges) done_.notify_all();
    v = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::worker_main(int index) {
  uint32_t seen = generation_.load(std::memory_order_acquire);
  while (!stop_.load(std::memory_order_acquire)) {
    run_available(index);
    spin_then_wait(generation_, seen);
    seen = generation_.load(std::memory_order_acquire);
  }
}

void ThreadPool::run(FnRef fn, int64_t n, int64_t grain, int ranges_per_thread) {
  if (n <= 0) return;
  if (tls_thread_index >= 0) {  // nested: already inside one of this pool's ranges
    fn(0, n, tls_thread_index);
    return;
  }
  if (grain < 1) grain = 1;
  // A few ranges per thread balance uneven progress; never more than n / grain.
  const int64_t max_ranges = std::max<int64_t>(1, n / grain);
  const int64_t ranges =
      n_threads_ == 1
          ? 1
          : std::min<int64_t>(max_ranges, std::max(1, ranges_per_thread) * int64_t{n_threads_});
  if (ranges == 1) {
    tls_thread_index = 0;
    try {
      fn(0, n, 0);
    } catch (...) {
      tls_thread_index = -1;
      throw;
    }
    tls_thread_index = -1;
    return;
  }

  std::lock_guard submit(submit_mutex_);
  job_fn_ = fn;
  job_n_ = n;
  job_error_ = nullptr;
  done_.store(0, std::memory_order_relaxed);
  const uint64_t gen = (claim_.load(std::memory_order_relaxed) >> (2 * kIndexBits)) + 1;
  claim_.store((gen << (2 * kIndexBits)) | (static_cast<uint64_t>(ranges) << kIndexBits),
               std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();

  run_available(0);
  const auto total = static_cast<uint32_t>(ranges);
  for (uint32_t d = done_.load(std::memory_order_acquire); d != total;
       d = done_.load(std::memory_order_acquire)) {
    spin_then_wait(done_, d);
  }
  if (job_error_) std::rethrow_exception(std::exchange(job_error_, nullptr));
}

int default_thread_count() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof(mask), &mask) != 0) {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
  }
  std::set<std::pair<std::string, std::string>> cores;  // (package, core) ids
  int logical = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &mask)) continue;
    ++logical;
    const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream package_file(dir + "physical_package_id");
    std::ifstream core_file(dir + "core_id");
    std::string package, core;
    if (!(package_file >> package) || !(core_file >> core)) {
      package = "cpu";
      core = std::to_string(cpu);  // topology unknown: count the logical CPU
    }
    cores.emplace(package, core);
  }
  const int physical = static_cast<int>(cores.size());
  if (physical >= 1) return physical;
  return logical >= 1 ? logical : 1;
}

}  // namespace moescope
