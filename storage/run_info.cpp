#include "storage/run_info.h"

#include <openssl/evp.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/common/error.h"
#include "engine/model/generator.h"
#include "engine/model/hparams.h"
#include "engine/model/model.h"
#include "engine/model/model_summary.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/offload/offload_config.h"
#include "engine/tensor/cpu_features.h"
#include "engine/tensor/ggml_type.h"

#ifndef MOESCOPE_VERSION
#define MOESCOPE_VERSION "unknown"
#endif

namespace moescope::storage {

using nlohmann::json;

std::string sha256_file(const std::filesystem::path& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) fail("cannot read {} to hash it", path.string());
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    fail("cannot hash {}: SHA-256 is unavailable", path.string());
  }
  std::vector<unsigned char> buf(size_t(1) << 20);
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
    EVP_DigestUpdate(ctx.get(), buf.data(), n);
  }
  if (std::ferror(f.get())) fail("I/O error while hashing {}", path.string());
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md.data(), &len);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

ModelDescription describe_model(const Model& model, bool with_hash) {
  ModelDescription d;
  const gguf::GgufFile& file = model.file();
  const ModelHParams& hp = model.hparams();
  d.path = file.path().string();
  d.file_bytes = file.file_size();
  if (with_hash) d.sha256 = sha256_file(file.path());
  d.architecture = hp.architecture;
  d.name = file.get_string("general.name").value_or("");
  const ModelSummary summary = summarize_model(file);
  json quant = json::object();
  for (const auto& [type, use] : summary.type_histogram) {
    quant[type] = {{"tensors", use.tensors}, {"bytes", use.bytes}};
  }
  d.quantization = quant.dump();
  d.n_model_layers = static_cast<int32_t>(hp.n_layer);
  d.n_vocab = static_cast<int32_t>(hp.n_vocab);
  d.gating = std::string(gating_func_name(hp.gating));
  d.shape = routed_expert_shape(model);
  return d;
}

std::string_view moescope_version() {
  return MOESCOPE_VERSION;
}

std::string machine_info_json() {
  json j;
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) == 0) j["hostname"] = host.data();
  utsname u{};
  if (uname(&u) == 0) {
    j["os"] = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos)
        j["cpu"] = line.substr(line.find_first_not_of(' ', colon + 1));
      break;
    }
  }
  j["logical_cores"] = std::thread::hardware_concurrency();
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) j["memory_bytes"] = int64_t(pages) * int64_t(page);
  j["simd"] = std::string(simd_level_name(active_simd_level()));
  j["moescope_version"] = MOESCOPE_VERSION;
  return j.dump();
}

std::string settings_json(const ModelOptions& model, const GenerationOptions& generation,
                          const offload::OffloadConfig* offload, std::string_view extra) {
  json j;
  j["engine"] = {{"threads", model.n_threads},
                 {"ctx", model.n_ctx},
                 {"precision", model.precision == MatmulPrecision::Exact ? "exact" : "fast"}};
  const SamplingParams& s = generation.sampling;
  j["generation"] = {{"max_new_tokens", generation.max_new_tokens},
                     {"n_batch", generation.n_batch},
                     {"stop", generation.stop},
                     {"temperature", s.temperature},
                     {"top_k", s.top_k},
                     {"top_p", s.top_p},
                     {"min_p", s.min_p},
                     {"repeat_penalty", s.repeat_penalty},
                     {"repeat_last_n", s.repeat_last_n},
                     {"seed", s.seed}};
  if (offload == nullptr) {
    j["offload"] = nullptr;
  } else {
    const offload::OffloadConfig& o = *offload;
    json off;
    off["budget"] = {{"unit", o.budget.unit == policy::Budget::Unit::kBytes ? "bytes" : "slots"},
                     {"amount", o.budget.amount}};
    off["allocator"] = policy::allocator_name(o.allocator);
    off["policy"] = o.policy;
    off["prefetcher"] = o.prefetcher;
    off["link"] = {{"name", o.link.name},
                   {"bandwidth_bytes_per_s", o.link.bandwidth_bytes_per_s},
                   {"latency_ns", o.link.latency_ns}};
    off["pack"] = o.pack.string();
    off["scratch_buffers"] = o.scratch_buffers;
    off["exact_capacity"] = o.capacity.has_value();
    j["offload"] = off;
  }
  const json more = json::parse(extra, nullptr, false);
  if (!more.is_object()) fail("internal: extra run settings are not a JSON object");
  for (const auto& [key, value] : more.items()) j[key] = value;
  return j.dump();
}

GatingFunc gating_from_name(std::string_view name) {
  for (GatingFunc g : {GatingFunc::Softmax, GatingFunc::Sigmoid, GatingFunc::SoftmaxWeight,
                       GatingFunc::SqrtSoftplus}) {
    if (gating_func_name(g) == name) return g;
  }
  return GatingFunc::Softmax;
}

}  // namespace moescope::storage
