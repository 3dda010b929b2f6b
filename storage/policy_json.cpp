#include "storage/policy_json.h"

#include <nlohmann/json.hpp>

#include "engine/common/error.h"
#include "storage/untrusted_json.h"

namespace moescope::storage {

using nlohmann::json;

namespace {

json parse_object(std::string_view text, const char* what) {
  json j = parse_untrusted_json(text);
  if (!j.is_object()) fail("the trace's {} is not a JSON object", what);
  return j;
}

template <typename T>
T field(const json& j, const char* key, const char* what) {
  const auto it = j.find(key);
  if (it == j.end()) fail("the trace's {} has no '{}'", what, key);
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    fail("the trace's {} has a malformed '{}'", what, key);
  }
}

}  // namespace

std::string capacity_to_json(const policy::CacheCapacity& c) {
  json j;
  j["pool"] = c.pool == policy::PoolKind::kGlobal ? "global" : "per-layer";
  j["in_bytes"] = c.in_bytes;
  j["layer_slots"] = c.layer_slots;
  j["global"] = c.global;
  return j.dump();
}

policy::CacheCapacity capacity_from_json(std::string_view text) {
  const char* what = "policy capacity";
  const json j = parse_object(text, what);
  policy::CacheCapacity c;
  const auto pool = field<std::string>(j, "pool", what);
  if (pool != "global" && pool != "per-layer") fail("the trace's {} has pool '{}'", what, pool);
  c.pool = pool == "global" ? policy::PoolKind::kGlobal : policy::PoolKind::kPerLayer;
  c.in_bytes = field<bool>(j, "in_bytes", what);
  c.layer_slots = field<std::vector<int32_t>>(j, "layer_slots", what);
  c.global = field<uint64_t>(j, "global", what);
  return c;
}

std::string timing_to_json(const policy::TimingModel& t, bool measured_compute) {
  json j;
  j["measured_compute"] = measured_compute;
  j["link"] = t.link.name;
  j["bandwidth_bytes_per_s"] = t.link.bandwidth_bytes_per_s;
  j["latency_ns"] = t.link.latency_ns;
  j["decode_layer_ns"] = t.decode_layer_ns;
  j["prefill_layer_ns_per_token"] = t.prefill_layer_ns_per_token;
  return j.dump();
}

policy::TimingModel timing_from_json(std::string_view text, bool* measured_compute) {
  const char* what = "policy timing";
  const json j = parse_object(text, what);
  policy::TimingModel t;
  if (measured_compute != nullptr) *measured_compute = field<bool>(j, "measured_compute", what);
  t.link.name = field<std::string>(j, "link", what);
  t.link.bandwidth_bytes_per_s = field<double>(j, "bandwidth_bytes_per_s", what);
  t.link.latency_ns = field<int64_t>(j, "latency_ns", what);
  t.decode_layer_ns = field<int64_t>(j, "decode_layer_ns", what);
  t.prefill_layer_ns_per_token = field<int64_t>(j, "prefill_layer_ns_per_token", what);
  if (!(t.link.bandwidth_bytes_per_s >= 0) || t.link.latency_ns < 0 || t.decode_layer_ns < 0 ||
      t.prefill_layer_ns_per_token < 0) {
    fail("the trace's {} has negative or invalid values", what);
  }
  return t;
}

}  // namespace moescope::storage
