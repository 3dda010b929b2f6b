#include "engine/tensor/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace moescope {
namespace {

// Every index visited exactly once, thread indices in range, never two overlapping calls with
// the same thread index (callers rely on that for per-thread scratch).
void check_cover(ThreadPool& pool, int64_t n, int64_t grain) {
  std::vector<std::atomic<int>> hits(n);
  std::vector<std::atomic<int>> in_flight(pool.size());
  std::atomic<int> bad_thread{0}, overlaps{0}, short_ranges{0}, calls{0};
  pool.parallel_for(
      n,
      [&](int64_t begin, int64_t end, int thread) {
        if (thread < 0 || thread >= pool.size()) {
          bad_thread++;
          return;
        }
        if (in_flight[thread]++ != 0) overlaps++;
        calls++;
        if (end - begin < grain) short_ranges++;
        for (int64_t i = begin; i < end; ++i) hits[i]++;
        std::this_thread::yield();
        in_flight[thread]--;
      },
      grain);
  EXPECT_EQ(bad_thread.load(), 0);
  EXPECT_EQ(overlaps.load(), 0);
  if (n > 0 && n < grain) {
    EXPECT_EQ(calls.load(), 1);
  } else {
    EXPECT_EQ(short_ranges.load(), 0) << "n=" << n << " grain=" << grain;
  }
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
}

TEST(ThreadPool, CoversEveryIndexOnceWithOneToFourThreads) {
  for (int threads = 1; threads <= 4; ++threads) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {0, 1, 2, 3, 5, 64, 1001}) {
      for (int64_t grain : {1, 4, 100}) check_cover(pool, n, grain);
    }
  }
}

TEST(ThreadPool, WorkersTakePartInLongLoops) {
  ThreadPool pool(2);
  std::atomic<int> worker_ranges{0};
  for (int attempt = 0; attempt < 200 && worker_ranges.load() == 0; ++attempt) {
    pool.parallel_for(64, [&](int64_t, int64_t, int thread) {
      if (thread != 0) worker_ranges++;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    });
  }
  EXPECT_GT(worker_ranges.load(), 0);
  std::atomic<int> calls{0};
  pool.parallel_for(
      400,
      [&](int64_t b, int64_t e, int) {
        calls++;
        EXPECT_EQ(e - b, 400);
      },
      300);
  EXPECT_EQ(calls.load(), 1) << "grain larger than n/2 keeps the loop in one range";
}

TEST(ThreadPool, ManyBackToBackJobsSumCorrectly) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  for (int job = 0; job < 5000; ++job) {
    pool.parallel_for(7, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) total += i;
    });
  }
  EXPECT_EQ(total.load(), 5000 * 21);
}

TEST(ThreadPool, RethrowsTheFirstExceptionAfterAllRangesFinish) {
  ThreadPool pool(3);
  std::atomic<int64_t> finished_items{0}, thrown_items{0};
  EXPECT_THROW(pool.parallel_for(30,
                                 [&](int64_t b, int64_t e, int) {
                                   if (b == 0) {
                                     thrown_items += e;
                                     throw std::runtime_error("boom");
                                   }
                                   std::this_thread::sleep_for(std::chrono::milliseconds(1));
                                   finished_items += e - b;
                                 }),
               std::runtime_error);
  EXPECT_EQ(finished_items.load() + thrown_items.load(), 30);
  // Still usable afterwards.
  check_cover(pool, 100, 1);
}

TEST(ThreadPool, NestedLoopsRunInlineOnTheSameThread) {
  ThreadPool pool(2);
  std::vector<std::atomic<int>> hits(20 * 10);
  pool.parallel_for(20, [&](int64_t b, int64_t e, int outer) {
    for (int64_t i = b; i < e; ++i) {
      pool.parallel_for(10, [&](int64_t ib, int64_t ie, int inner) {
        EXPECT_EQ(inner, outer);
        for (int64_t j = ib; j < ie; ++j) hits[i * 10 + j]++;
      });
    }
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ThreadPool, SharedBySeveralSubmittingThreads) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  auto submit = [&] {
    for (int job = 0; job < 500; ++job) {
      pool.parallel_for(100, [&](int64_t b, int64_t e, int) { total += e - b; });
    }
  };
  std::thread a(submit), b(submit);
  a.join();
  b.join();
  EXPECT_EQ(total.load(), 2 * 500 * 100);
}

TEST(ThreadPool, DefaultThreadCountIsPositiveAndAtMostLogicalCpus) {
  const int n = default_thread_count();
  EXPECT_GE(n, 1);
  const unsigned logical = std::thread::hardware_concurrency();
  if (logical > 0) {
    EXPECT_LE(n, static_cast<int>(logical));
  }
}

TEST(ThreadPool, NonPositiveSizeMeansOne) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), 1);
  check_cover(pool, 10, 1);
}

}  // namespace
}  // namespace moescope
