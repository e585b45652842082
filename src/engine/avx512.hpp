// The instruction set of the engine's hand-written kernels (winograd.cpp,
// pointwise_pair.cpp): AVX-512F with VL (16- and 8-lane vectors) and FMA,
// compiled per function so that the rest of the build keeps its baseline
// flags, and used only where the CPU has it (checked at run time).
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FDIWN_HAVE_AVX512_KERNELS 1
#define FDIWN_AVX512 __attribute__((target("avx512f,avx512vl,fma")))
#define FDIWN_AVX512_INLINE __attribute__((target("avx512f,avx512vl,fma"), always_inline))
#endif

namespace fdiwn::engine {

/// Whether this build has the kernels and this CPU can run them (asked once).
inline bool avx512_kernels_available() {
#ifdef FDIWN_HAVE_AVX512_KERNELS
  static const bool avx512 =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
  return avx512;
#else
  return false;
#endif
}

}  // namespace fdiwn::engine
