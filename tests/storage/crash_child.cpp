// The process the crash test kills: records decode tokens into a trace forever, at a steady
// pace, and reports on stdout how far it got ("committed C produced P") every few milliseconds.
// Usage: storage_crash_child TRACE
#include <chrono>
#include <cstdio>
#include <thread>

#include "engine/common/error.h"
#include "tests/storage/crash_workload.h"

int main(int argc, char** argv) {
  using namespace moescope;
  using namespace moescope::storage;
  if (argc != 2) {
    std::fprintf(stderr, "usage: storage_crash_child TRACE\n");
    return 2;
  }
  try {
    TraceWriter writer(argv[1]);
    writer.begin_run(test::crash_run_info());
    TraceObserver observer(writer);
    std::printf("ready\n");
    std::fflush(stdout);
    auto last_report = std::chrono::steady_clock::now();
    for (int32_t pos = 0;; ++pos) {
      test::crash_forward(writer, observer, pos);
      // ~2000 tokens/s: a small model's decode speed.
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      const auto now = std::chrono::steady_clock::now();
      if (now - last_report > std::chrono::milliseconds(5)) {
        std::printf("committed %lld produced %d\n",
                    static_cast<long long>(writer.stats().committed_tokens), pos + 1);
        std::fflush(stdout);
        last_report = now;
      }
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
