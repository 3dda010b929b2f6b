#pragma once
// Which SIMD instruction sets the kernels may use. The binary is built for baseline x86-64; faster
// kernels are compiled per function with target attributes and picked at run time from this.
#include <string_view>

namespace moescope {

// Ordered: each level implies the ones below it.
enum class SimdLevel { Scalar, Avx2, Avx512 };

// What the CPU (and OS) support: Avx2 needs AVX2+FMA+F16C, Avx512 needs AVX-512 F/BW/VL/DQ on top.
// The environment variable MOESCOPE_SIMD=scalar|avx2|avx512 lowers the result (never raises it
// above the hardware); an unknown value is ignored.
SimdLevel detected_simd_level();

// The level the kernels use now: detected_simd_level() unless lowered by set_simd_level().
SimdLevel active_simd_level();

// Forces a lower level (tests, benchmarks); a level above detected_simd_level() is clamped to it.
// Not meant to be called while matmuls run on other threads.
void set_simd_level(SimdLevel level);

// AVX-512 VNNI (vpdpbusd) on top of Avx512: speeds up the int8 dot products.
bool cpu_has_avx512_vnni();

std::string_view simd_level_name(SimdLevel level);

// How a MOESCOPE_SIMD value (null when unset) limits the hardware level; exposed for tests.
SimdLevel simd_level_from_env(const char* value, SimdLevel hardware);

}  // namespace moescope
