#include "tests/storage/storage_test_util.h"

#include <unistd.h>

#include <cmath>

#include <fmt/format.h>

namespace moescope::storage::test {

std::filesystem::path temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("moescope-storage-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(path.string() + suffix);
  }
  return path;
}

RunInfo fake_run_info(const policy::MoeShape& shape, const std::string& label) {
  RunInfo info;
  info.label = label;
  info.model.path = "/models/fake.gguf";
  info.model.sha256 = std::string(64, 'a');
  info.model.file_bytes = 123456;
  info.model.architecture = "llama";
  info.model.name = "fake";
  info.model.quantization = R"({"Q8_0":{"bytes":1000,"tensors":10}})";
  info.model.n_model_layers = shape.model_layer.back() + 1;
  info.model.n_vocab = 4096;
  info.model.gating = "softmax";
  info.model.shape = shape;
  info.settings_json = R"({"generation":{"n_batch":64}})";
  info.seed = 0xfedcba9876543210ull;
  return info;
}

float fake_logit(int32_t pos, int32_t layer, int32_t expert) {
  return float(std::sin(0.37 * pos + 1.3 * layer + 0.71 * expert) * 3.0);
}

void record_run(TraceWriter& writer, const policy::RoutingTrace& trace, int32_t chunk,
                const std::string& label) {
  writer.begin_run(fake_run_info(trace.shape, label));
  PolicyDescription d;
  d.primary = true;
  d.capacity = policy::CacheCapacity::uniform(trace.shape.n_layers(), 2);
  writer.simulate_policy(d, {}, true);
  TraceObserver observer(writer);
  play(writer, observer, trace, chunk);
  writer.finish_run();
}

std::vector<int32_t> call_starts(const policy::RoutingTrace& trace, int32_t chunk) {
  std::vector<int32_t> starts;
  int32_t t = 0;
  const auto n = int32_t(trace.n_tokens());
  while (t < n) {
    starts.push_back(t);
    if (trace.phase[size_t(t)] == policy::Phase::kDecode) {
      ++t;
      continue;
    }
    int32_t end = t;
    while (end < n && trace.phase[size_t(end)] == policy::Phase::kPrefill &&
           (chunk == 0 || end - t < chunk))
      ++end;
    t = end;
  }
  return starts;
}

void play(TraceWriter& writer, TraceObserver& observer, const policy::RoutingTrace& trace,
          int32_t chunk, const std::function<void(int32_t, int32_t)>& after_call) {
  const std::vector<int32_t> starts = call_starts(trace, chunk);
  const int32_t L = trace.n_layers();
  const auto n = int32_t(trace.n_tokens());
  std::vector<float> logits;
  for (size_t c = 0; c < starts.size(); ++c) {
    const int32_t first = starts[c];
    const int32_t end = c + 1 < starts.size() ? starts[c + 1] : n;
    for (int32_t t = first; t < end; ++t) {
      const int32_t id = trace.token_id.empty() ? 100 + t : trace.token_id[size_t(t)];
      writer.token(t, id, fmt::format("<{}>", t));
    }
    observer.on_forward_begin(TokenPos(first), end - first);
    for (int32_t l = 0; l < L; ++l) {
      for (int32_t t = first; t < end; ++t) {
        const policy::TokenLayerRouting r = trace.routing(TokenPos(t), MoeLayerId(l));
        logits.resize(size_t(trace.shape.n_experts[size_t(l)]));
        for (size_t e = 0; e < logits.size(); ++e) logits[e] = fake_logit(t, l, int32_t(e));
        observer.on_routing(MoeRoutingEvent{trace.shape.block(MoeLayerId(l)),
                                            TokenPos(t),
                                            {},
                                            logits,
                                            r.experts,
                                            r.weights,
                                            r.weights});
      }
    }
    observer.on_forward_end();
    if (after_call) after_call(first, end - first);
  }
}

}  // namespace moescope::storage::test
