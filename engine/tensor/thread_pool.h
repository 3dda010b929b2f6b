#pragma once
// A fixed set of worker threads for data-parallel loops (matmul rows, experts, heads). A loop is
// cut into a few more ranges than threads and the threads claim ranges as they come, so a worker
// the OS has not scheduled yet (shared machines) delays nothing: the caller takes its ranges.
// Workers spin briefly between loops, then sleep, so back-to-back loops of a forward pass start
// quickly without burning a core while the engine is idle.
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace moescope {

class ThreadPool {
 public:
  using RangeFn = std::function<void(int64_t begin, int64_t end, int thread)>;

  // n_threads counts the calling thread, which works on every loop; n_threads - 1 workers are
  // started. Values below 1 are treated as 1.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn on disjoint contiguous ranges covering [0, n) and returns when all are done. `thread`
  // is the index in [0, size()) of the pool thread running the call (the caller is 0): one thread
  // may get several ranges, but calls with the same index never overlap, so it can index
  // per-thread scratch. Each range holds at least `grain` items unless n < grain. The first
  // exception thrown by fn is rethrown here after every range finished. A parallel_for issued from
  // inside fn runs inline on that thread with the same index.
  // Fn is any callable with RangeFn's signature; it is called by reference, never copied, so
  // issuing a loop allocates nothing. The loop is cut into at most ranges_per_thread ranges per
  // thread: more ranges end the threads' shares closer together, each costs one claim.
  template <typename Fn>
  void parallel_for(int64_t n, Fn&& fn, int64_t grain = 1, int ranges_per_thread = 4) {
    using F = std::remove_reference_t<Fn>;
    run({const_cast<void*>(static_cast<const void*>(&fn)),
         [](void* f, int64_t begin, int64_t end, int thread) {
           (*static_cast<F*>(f))(begin, end, thread);
         }},
        n, grain, ranges_per_thread);
  }

 private:
  struct FnRef {
    void* object;
    void (*call)(void* object, int64_t begin, int64_t end, int thread);
    void operator()(int64_t begin, int64_t end, int thread) const {
      call(object, begin, end, thread);
    }
  };
  void run(FnRef fn, int64_t n, int64_t grain, int ranges_per_thread);
  // claim_ packs the job's generation, range count and next unclaimed range, so that a thread
  // claims a range of the current job, or nothing, with one compare-exchange.
  static constexpr int kIndexBits = 24;
  static constexpr uint64_t kIndexMask = (uint64_t{1} << kIndexBits) - 1;

  void worker_main(int index);
  // Claims and runs ranges of the current job until none is left; false if it got none.
  bool run_available(int thread);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex submit_mutex_;  // one job at a time when several threads share the pool

  // The current job; written only while no range of the previous job is claimable or running.
  FnRef job_fn_{nullptr, nullptr};
  int64_t job_n_ = 0;
  std::exception_ptr job_error_;
  std::mutex error_mutex_;

  std::atomic<uint64_t> claim_{0};
  std::atomic<uint32_t> done_{0};        // ranges of the current job finished
  std::atomic<uint32_t> generation_{0};  // bumped per job; workers sleep on it
  std::atomic<bool> stop_{false};
};

// Physical cores available to this process (hyper-thread siblings counted once).
int default_thread_count();

}  // namespace moescope
