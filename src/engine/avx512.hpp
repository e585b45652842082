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

#ifdef FDIWN_HAVE_AVX512_KERNELS
#include "engine/simd_exp.hpp"
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

#ifdef FDIWN_HAVE_AVX512_KERNELS
/// The same operations on 16-lane and 8-lane vectors, so that a kernel can
/// be written once for both (winograd.cpp).
namespace lanes {

#define FDIWN_LANES(name, f512, f256)                          \
  FDIWN_AVX512_INLINE inline __m512 name(__m512 a, __m512 b) { \
    return f512(a, b);                                         \
  }                                                            \
  FDIWN_AVX512_INLINE inline __m256 name(__m256 a, __m256 b) { \
    return f256(a, b);                                         \
  }
FDIWN_LANES(add, _mm512_add_ps, _mm256_add_ps)
FDIWN_LANES(sub, _mm512_sub_ps, _mm256_sub_ps)
FDIWN_LANES(max, _mm512_max_ps, _mm256_max_ps)
#undef FDIWN_LANES
// a * b + c and c - a * b, `a` a constant.
FDIWN_AVX512_INLINE inline __m512 fmadd(float a, __m512 b, __m512 c) {
  return _mm512_fmadd_ps(_mm512_set1_ps(a), b, c);
}
FDIWN_AVX512_INLINE inline __m256 fmadd(float a, __m256 b, __m256 c) {
  return _mm256_fmadd_ps(_mm256_set1_ps(a), b, c);
}
FDIWN_AVX512_INLINE inline __m512 fnmadd(float a, __m512 b, __m512 c) {
  return _mm512_fnmadd_ps(_mm512_set1_ps(a), b, c);
}
FDIWN_AVX512_INLINE inline __m256 fnmadd(float a, __m256 b, __m256 c) {
  return _mm256_fnmadd_ps(_mm256_set1_ps(a), b, c);
}
FDIWN_AVX512_INLINE inline __m512 load(__mmask16 k, const float* p) {
  return _mm512_maskz_loadu_ps(k, p);
}
FDIWN_AVX512_INLINE inline __m256 load(__mmask8 k, const float* p) {
  return _mm256_maskz_loadu_ps(k, p);
}
FDIWN_AVX512_INLINE inline void store(float* p, __m512 x) {
  _mm512_storeu_ps(p, x);
}
FDIWN_AVX512_INLINE inline void store(float* p, __m256 x) {
  _mm256_storeu_ps(p, x);
}
FDIWN_AVX512_INLINE inline void store(__mmask16 k, float* p, __m512 x) {
  _mm512_mask_storeu_ps(p, k, x);
}
FDIWN_AVX512_INLINE inline void store(__mmask8 k, float* p, __m256 x) {
  _mm256_mask_storeu_ps(p, k, x);
}
FDIWN_AVX512_INLINE inline __m512 sigmoid(__m512 x) {
  return simd::sigmoid512(x);
}
FDIWN_AVX512_INLINE inline __m256 sigmoid(__m256 x) {
  return _mm512_castps512_ps256(simd::sigmoid512(_mm512_zextps256_ps512(x)));
}

}  // namespace lanes
#endif

}  // namespace fdiwn::engine
