// The instruction sets of the engine's hand-written kernels (winograd.cpp,
// pointwise_pair.cpp, pixel_ops.cpp), each a namespace of the same vector
// operations, so that a kernel is written once (engine/*_kernels.inc) and
// compiled for both:
// - x512: AVX-512F with VL and FMA; 16-lane vectors and 8-lane halves;
// - x256: AVX2 and FMA; 8-lane vectors and 4-lane halves.
// A half carries a last vector of at most half a vector's channels (24 =
// 16 + 8; 12 = 8 + 4) at half the cost where a full operation takes more of
// the core's units. Every function is compiled for its instruction set alone
// (function attributes, not file flags: the rest of the build keeps its
// baseline), and used only where the CPU has it (simd_level(), asked once).
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FDIWN_HAVE_SIMD_KERNELS 1
#define FDIWN_X512 __attribute__((target("avx512f,avx512vl,fma")))
#define FDIWN_X256 __attribute__((target("avx2,fma")))
// The same, for the small functions a kernel is written with.
#define FDIWN_X512_INLINE FDIWN_X512 __attribute__((always_inline)) inline
#define FDIWN_X256_INLINE FDIWN_X256 __attribute__((always_inline)) inline
#endif

namespace fdiwn::engine {

/// The widest instruction set the hand-written kernels have for this CPU.
enum class Simd { None, Avx2, Avx512 };

inline Simd simd_level() {
#ifdef FDIWN_HAVE_SIMD_KERNELS
  // Each level includes the one below it (simd_runs).
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  static const Simd level =
      avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") ? Simd::Avx512
      : avx2                                                                          ? Simd::Avx2
                                                                                      : Simd::None;
  return level;
#else
  return Simd::None;
#endif
}

/// Whether this CPU can run the kernels of `simd` (every level up to its own).
inline bool simd_runs(Simd simd) {
  return simd != Simd::None && static_cast<int>(simd) <= static_cast<int>(simd_level());
}

#ifdef FDIWN_HAVE_SIMD_KERNELS

// An operation of two vectors (three: the multiply-adds), on full vectors
// (V) and on halves (H).
#define FDIWN_SIMD_BINARY(name, on_v, on_h) \
  FDIWN_SIMD V name(V a, V b) {             \
    return on_v(a, b);                      \
  }                                         \
  FDIWN_SIMD H name(H a, H b) {             \
    return on_h(a, b);                      \
  }
#define FDIWN_SIMD_TERNARY(name, on_v, on_h) \
  FDIWN_SIMD V name(V a, V b, V c) {         \
    return on_v(a, b, c);                    \
  }                                          \
  FDIWN_SIMD H name(H a, H b, H c) {         \
    return on_h(a, b, c);                    \
  }

namespace x512 {
#define FDIWN_SIMD FDIWN_X512_INLINE
using V = __m512;
using H = __m256;
using MaskV = __mmask16;
using MaskH = __mmask8;
constexpr int kLanes = 16;
// Vector registers a kernel may give to accumulators (of 32).
constexpr int kAccumulators = 24;

FDIWN_SIMD V splat(V, float a) {
  return _mm512_set1_ps(a);
}
FDIWN_SIMD H splat(H, float a) {
  return _mm256_set1_ps(a);
}
FDIWN_SIMD_BINARY(add, _mm512_add_ps, _mm256_add_ps)
FDIWN_SIMD_BINARY(sub, _mm512_sub_ps, _mm256_sub_ps)
FDIWN_SIMD_BINARY(mul, _mm512_mul_ps, _mm256_mul_ps)
FDIWN_SIMD_BINARY(div, _mm512_div_ps, _mm256_div_ps)
FDIWN_SIMD_BINARY(max, _mm512_max_ps, _mm256_max_ps)
FDIWN_SIMD_BINARY(min, _mm512_min_ps, _mm256_min_ps)
// a * b + c and c - a * b.
FDIWN_SIMD_TERNARY(fma, _mm512_fmadd_ps, _mm256_fmadd_ps)
FDIWN_SIMD_TERNARY(fnma, _mm512_fnmadd_ps, _mm256_fnmadd_ps)
// 2^k for whole-number values k.
FDIWN_SIMD V pow2(V k) {
  return _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(k), _mm512_set1_epi32(127)), 23));
}
FDIWN_SIMD H pow2(H k) {
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23));
}
FDIWN_SIMD V loadu(V, const float* p) {
  return _mm512_loadu_ps(p);
}
FDIWN_SIMD H loadu(H, const float* p) {
  return _mm256_loadu_ps(p);
}
FDIWN_SIMD V broadcast(V, const float* p) {
  return _mm512_set1_ps(*p);
}
FDIWN_SIMD H low(V a) {
  return _mm512_castps512_ps256(a);
}
// The first n lanes (masked loads read nothing past them).
FDIWN_SIMD MaskV first(V, int n) {
  return static_cast<MaskV>((1u << n) - 1u);
}
FDIWN_SIMD MaskH first(H, int n) {
  return static_cast<MaskH>((1u << n) - 1u);
}
FDIWN_SIMD V load(MaskV k, const float* p) {
  return _mm512_maskz_loadu_ps(k, p);
}
FDIWN_SIMD H load(MaskH k, const float* p) {
  return _mm256_maskz_loadu_ps(k, p);
}
FDIWN_SIMD void store(float* p, V a) {
  _mm512_storeu_ps(p, a);
}
FDIWN_SIMD void store(float* p, H a) {
  _mm256_storeu_ps(p, a);
}
FDIWN_SIMD void store(MaskV k, float* p, V a) {
  _mm512_mask_storeu_ps(p, k, a);
}
FDIWN_SIMD void store(MaskH k, float* p, H a) {
  _mm256_mask_storeu_ps(p, k, a);
}
#include "engine/simd_math.inc"
#undef FDIWN_SIMD
}  // namespace x512

namespace x256 {
#define FDIWN_SIMD FDIWN_X256_INLINE
using V = __m256;
using H = __m128;
using MaskV = __m256i;
using MaskH = __m128i;
constexpr int kLanes = 8;
// Vector registers a kernel may give to accumulators (of 16).
constexpr int kAccumulators = 12;

FDIWN_SIMD V splat(V, float a) {
  return _mm256_set1_ps(a);
}
FDIWN_SIMD H splat(H, float a) {
  return _mm_set1_ps(a);
}
FDIWN_SIMD_BINARY(add, _mm256_add_ps, _mm_add_ps)
FDIWN_SIMD_BINARY(sub, _mm256_sub_ps, _mm_sub_ps)
FDIWN_SIMD_BINARY(mul, _mm256_mul_ps, _mm_mul_ps)
FDIWN_SIMD_BINARY(div, _mm256_div_ps, _mm_div_ps)
FDIWN_SIMD_BINARY(max, _mm256_max_ps, _mm_max_ps)
FDIWN_SIMD_BINARY(min, _mm256_min_ps, _mm_min_ps)
FDIWN_SIMD_TERNARY(fma, _mm256_fmadd_ps, _mm_fmadd_ps)
FDIWN_SIMD_TERNARY(fnma, _mm256_fnmadd_ps, _mm_fnmadd_ps)
FDIWN_SIMD V pow2(V k) {
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23));
}
FDIWN_SIMD H pow2(H k) {
  return _mm_castsi128_ps(
      _mm_slli_epi32(_mm_add_epi32(_mm_cvtps_epi32(k), _mm_set1_epi32(127)), 23));
}
FDIWN_SIMD V loadu(V, const float* p) {
  return _mm256_loadu_ps(p);
}
FDIWN_SIMD H loadu(H, const float* p) {
  return _mm_loadu_ps(p);
}
FDIWN_SIMD V broadcast(V, const float* p) {
  return _mm256_broadcast_ss(p);
}
FDIWN_SIMD H low(V a) {
  return _mm256_castps256_ps128(a);
}
FDIWN_SIMD MaskV first(V, int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
FDIWN_SIMD MaskH first(H, int n) {
  return _mm_cmpgt_epi32(_mm_set1_epi32(n), _mm_setr_epi32(0, 1, 2, 3));
}
FDIWN_SIMD V load(MaskV k, const float* p) {
  return _mm256_maskload_ps(p, k);
}
FDIWN_SIMD H load(MaskH k, const float* p) {
  return _mm_maskload_ps(p, k);
}
FDIWN_SIMD void store(float* p, V a) {
  _mm256_storeu_ps(p, a);
}
FDIWN_SIMD void store(float* p, H a) {
  _mm_storeu_ps(p, a);
}
FDIWN_SIMD void store(MaskV k, float* p, V a) {
  _mm256_maskstore_ps(p, k, a);
}
FDIWN_SIMD void store(MaskH k, float* p, H a) {
  _mm_maskstore_ps(p, k, a);
}
#include "engine/simd_math.inc"
#undef FDIWN_SIMD
}  // namespace x256

#undef FDIWN_SIMD_BINARY
#undef FDIWN_SIMD_TERNARY

#endif  // FDIWN_HAVE_SIMD_KERNELS

}  // namespace fdiwn::engine
