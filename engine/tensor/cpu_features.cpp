#include "engine/tensor/cpu_features.h"

#include <atomic>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace moescope {
namespace {

#if defined(__x86_64__) || defined(__i386__)
// CPUID leaf 1, ECX bit 29 (clang's __builtin_cpu_supports does not know "f16c"). F16C only uses
// the YMM state that AVX2 already requires the OS to save.
bool has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (ecx & (1u << 29)) != 0;
}
#endif

// libgcc's cpu model also checks that the OS saves the YMM/ZMM state (xgetbv), so a feature it
// reports is usable.
SimdLevel hardware_simd_level() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
  if (!avx2) return SimdLevel::Scalar;
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return avx512 ? SimdLevel::Avx512 : SimdLevel::Avx2;
#else
  return SimdLevel::Scalar;
#endif
}

std::atomic<int>& active_level_storage() {
  static std::atomic<int> level{static_cast<int>(detected_simd_level())};
  return level;
}

}  // namespace

SimdLevel detected_simd_level() {
  static const SimdLevel level =
      simd_level_from_env(std::getenv("MOESCOPE_SIMD"), hardware_simd_level());
  return level;
}

SimdLevel active_simd_level() {
  return static_cast<SimdLevel>(active_level_storage().load(std::memory_order_relaxed));
}

void set_simd_level(SimdLevel level) {
  const SimdLevel detected = detected_simd_level();
  if (level > detected) level = detected;
  active_level_storage().store(static_cast<int>(level), std::memory_order_relaxed);
}

bool cpu_has_avx512_vnni() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool vnni =
      hardware_simd_level() == SimdLevel::Avx512 && __builtin_cpu_supports("avx512vnni");
  return vnni;
#else
  return false;
#endif
}

SimdLevel simd_level_from_env(const char* value, SimdLevel hardware) {
  if (value == nullptr) return hardware;
  const std::string_view v(value);
  SimdLevel wanted = hardware;
  if (v == "scalar") wanted = SimdLevel::Scalar;
  if (v == "avx2") wanted = SimdLevel::Avx2;
  if (v == "avx512") wanted = SimdLevel::Avx512;
  return wanted < hardware ? wanted : hardware;
}

std::string_view simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::Scalar:
      return "scalar";
    case SimdLevel::Avx2:
      return "avx2";
    case SimdLevel::Avx512:
      return "avx512";
  }
  return "unknown";
}

}  // namespace moescope
