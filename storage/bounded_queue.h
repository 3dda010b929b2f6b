#pragma once
// A multi-producer, single-consumer queue bounded by the bytes its items hold. Producers block
// while it is full (backpressure rather than losing trace data); the consumer takes everything
// queued at once. Producers wake the consumer only for urgent items or once wake_bytes are
// queued: a consumer that polls every few milliseconds then costs the producers no context switch
// per item.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace moescope::storage {

template <typename T>
class BoundedQueue {
 public:
  using Clock = std::chrono::steady_clock;

  BoundedQueue(size_t max_bytes, size_t wake_bytes)
      : max_bytes_(max_bytes), wake_bytes_(wake_bytes) {}

  // Returns the nanoseconds spent waiting for space; false in `accepted` once closed.
  int64_t push(T item, size_t bytes, bool& accepted, bool urgent = true) {
    std::unique_lock lock(mu_);
    int64_t waited = 0;
    if (bytes_ > 0 && bytes_ + bytes > max_bytes_ && !closed_) {
      const auto start = Clock::now();
      not_full_.wait(lock, [&] { return closed_ || bytes_ == 0 || bytes_ + bytes <= max_bytes_; });
      waited = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
    }
    accepted = !closed_;
    if (!accepted) return waited;
    items_.push_back({std::move(item), bytes});
    bytes_ += bytes;
    if (bytes_ > max_seen_) max_seen_ = bytes_;
    const bool wake = urgent || bytes_ >= wake_bytes_;
    lock.unlock();
    if (wake) not_empty_.notify_one();
    return waited;
  }

  enum class Pop { kItems, kTimeout, kClosed };
  // Moves every queued item into `out` (appended). Waits until there is one or `deadline`
  // passes. kClosed once the queue is closed and empty.
  Pop pop_all(std::vector<T>& out, Clock::time_point deadline) {
    std::unique_lock lock(mu_);
    not_empty_.wait_until(lock, deadline, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return closed_ ? Pop::kClosed : Pop::kTimeout;
    for (auto& [item, bytes] : items_) out.push_back(std::move(item));
    items_.clear();
    bytes_ = 0;
    lock.unlock();
    not_full_.notify_all();
    return Pop::kItems;
  }

  // Wakes everyone; later pushes are refused. Items already queued can still be popped.
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  size_t bytes() const {
    std::lock_guard lock(mu_);
    return bytes_;
  }
  size_t max_bytes_seen() const {
    std::lock_guard lock(mu_);
    return max_seen_;
  }

 private:
  struct Slot {
    T item;
    size_t bytes;
  };
  mutable std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Slot> items_;
  size_t max_bytes_;
  size_t wake_bytes_;
  size_t bytes_ = 0;
  size_t max_seen_ = 0;
  bool closed_ = false;
};

}  // namespace moescope::storage
