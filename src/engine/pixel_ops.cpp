#include "engine/pixel_ops.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "engine/simd.hpp"

// Hot loops are compiled for AVX-512, AVX2 (+FMA) and baseline x86-64 and
// picked at load time, so one portable binary uses the wide units where the
// CPU has them.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define FDIWN_MULTIVERSION \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FDIWN_MULTIVERSION
#endif

namespace fdiwn::engine::ops {

namespace {

constexpr int kHalf = kC / 2;

// e^x, accurate to about 2 ulp (Cephes' expf), written so that loops over
// channels vectorise: no branches, no library call.
inline float exp_approx(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  // Round x / ln 2 to the nearest integer k with the 1.5 * 2^23 trick.
  const float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = x - k * 0.693359375f + k * 2.12194440e-4f;
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * z + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return e * scale;
}

inline float sigmoid(float x) {
  return 1.0f / (1.0f + exp_approx(-x));
}

}  // namespace

FDIWN_MULTIVERSION
void accumulate_stats(const float* p, int64_t count, int channels, double* sum, double* sq) {
  double s[48] = {}, q[48] = {};
  if (channels == kC) {
    for (int64_t i = 0; i < count; ++i, p += kC) {
      for (int c = 0; c < kC; ++c) {
        const double v = p[c];
        s[c] += v;
        q[c] += v * v;
      }
    }
  } else {
    for (int64_t i = 0; i < count; ++i, p += channels) {
      for (int c = 0; c < channels; ++c) {
        const double v = p[c];
        s[c] += v;
        q[c] += v * v;
      }
    }
  }
  for (int c = 0; c < channels; ++c) {
    sum[c] += s[c];
    sq[c] += q[c];
  }
}

FDIWN_MULTIVERSION
void attend_portable(const float* t, const Gates& gates, float body_scale, const float* x,
                     float x_scale, float slope, float* y, int64_t y_stride, int64_t count) {
  // Local copies: the compiler then knows nothing aliases them.
  float ga[kC], gb[kC];
  for (int c = 0; c < kC; ++c) {
    ga[c] = gates.a[c];
    gb[c] = gates.b[c];
  }
  for (int64_t i = 0; i < count; ++i) {
    const float* b = t + i * kC;
    float g[kC];
    for (int c = 0; c < kC; ++c) {
      const float v = b[c];
      g[c] = v * sigmoid(ga[c] * v + gb[c]);
    }
    // Channel shuffle with 2 groups: output 2j <- j, 2j+1 <- 12+j.
    float z[kC];
    for (int j = 0; j < kHalf; ++j) {
      z[2 * j] = body_scale * g[j];
      z[2 * j + 1] = body_scale * g[kHalf + j];
    }
    if (x) {
      const float* v = x + i * kC;
      for (int c = 0; c < kC; ++c) z[c] += x_scale * v[c];
    }
    if (slope != 1.0f) {
      for (int c = 0; c < kC; ++c) z[c] = z[c] >= 0.0f ? z[c] : slope * z[c];
    }
    float* o = y + i * y_stride;
    for (int c = 0; c < kC; ++c) o[c] = z[c];
  }
}

namespace {

#ifdef FDIWN_HAVE_SIMD_KERNELS
// attend() with AVX-512 by hand: the 2-group channel shuffle is two lane
// permutations of the pixel's 24 values (compilers turn it into scalar
// moves), and everything after it is computed in output order, with the
// gates permuted once.

// scale * v * sigmoid(a * v + b).
FDIWN_X512 inline __m512 gated512(__m512 v, __m512 a, __m512 b, __m512 scale) {
  const __m512 sig = x512::sigmoid(_mm512_fmadd_ps(a, v, b));
  return _mm512_mul_ps(scale, _mm512_mul_ps(v, sig));
}

// Lanes 0-7 of `a` then lanes 0-7 of `b`.
FDIWN_X512 inline __m512 both_halves(__m512 a, __m512 b) {
  return _mm512_shuffle_f32x4(a, b, 0x44);
}

// The leaky ReLU (none with slope 1).
FDIWN_X512 inline __m512 leaky512(__m512 z, __m512 sl, float slope) {
  if (slope == 1.0f) return z;
  return _mm512_mask_mul_ps(z, _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_LT_OQ), z, sl);
}

FDIWN_X512 void attend_avx512(const float* t, const Gates& gates, float body_scale, const float* x,
                              float x_scale, float slope, float* y, int64_t y_stride,
                              int64_t count) {
  // Output channel 2j is input channel j, 2j+1 is 12+j. Sources: `lo` holds
  // input channels 0..15, `hi` 8..23 (index 16 + m is hi's lane m).
  alignas(64) int32_t idx1[16], idx2[16];
  alignas(64) float a1[16], b1[16], a2[16], b2[16];
  for (int l = 0; l < 16; ++l) {
    const int c = l, src = c % 2 == 0 ? c / 2 : kHalf + c / 2;
    idx1[l] = src < 16 ? src : 16 + (src - 8);
    a1[l] = gates.a[src];
    b1[l] = gates.b[src];
  }
  // Lanes 8-15 repeat 0-7: a pair of pixels shares one vector for their last
  // 8 channels (below).
  for (int l = 0; l < 16; ++l) {
    const int c = 16 + (l % 8), src = c % 2 == 0 ? c / 2 : kHalf + c / 2;
    idx2[l] = src < 16 ? src : 16 + (src - 8);
    a2[l] = gates.a[src];
    b2[l] = gates.b[src];
  }
  const __m512i i1 = _mm512_load_si512(idx1), i2 = _mm512_load_si512(idx2);
  const __m512 ga1 = _mm512_load_ps(a1), gb1 = _mm512_load_ps(b1);
  const __m512 ga2 = _mm512_load_ps(a2), gb2 = _mm512_load_ps(b2);
  const __m512 bs = _mm512_set1_ps(body_scale), xs = _mm512_set1_ps(x_scale);
  const __m512 sl = _mm512_set1_ps(slope);
  const __mmask16 low8 = 0xFF;
  // Two pixels at a time: their first 16 channels a vector each, their last
  // 8 in the two halves of a third, so a pair costs three sigmoids, not four.
  // An odd last pixel is read as both of its pair and written once.
  for (int64_t i = 0; i < count; i += 2) {
    const bool two = i + 1 < count;
    const int64_t next = two ? kC : 0;  // the second pixel's offset
    const float* p = t + i * kC;
    const __m512 lo0 = _mm512_loadu_ps(p), hi0 = _mm512_loadu_ps(p + 8);
    const __m512 lo1 = _mm512_loadu_ps(p + next), hi1 = _mm512_loadu_ps(p + next + 8);
    __m512 z0 = gated512(_mm512_permutex2var_ps(lo0, i1, hi0), ga1, gb1, bs);
    __m512 z1 = gated512(_mm512_permutex2var_ps(lo1, i1, hi1), ga1, gb1, bs);
    __m512 z2 = gated512(
        both_halves(_mm512_permutex2var_ps(lo0, i2, hi0), _mm512_permutex2var_ps(lo1, i2, hi1)),
        ga2, gb2, bs);
    if (x) {
      const float* v = x + i * kC;
      z0 = _mm512_fmadd_ps(xs, _mm512_loadu_ps(v), z0);
      z1 = _mm512_fmadd_ps(xs, _mm512_loadu_ps(v + next), z1);
      z2 = _mm512_fmadd_ps(xs,
                           both_halves(_mm512_maskz_loadu_ps(low8, v + 16),
                                       _mm512_maskz_loadu_ps(low8, v + next + 16)),
                           z2);
    }
    float* o = y + i * y_stride;
    _mm512_storeu_ps(o, leaky512(z0, sl, slope));
    z2 = leaky512(z2, sl, slope);
    _mm512_mask_storeu_ps(o + 16, low8, z2);
    if (two) {
      _mm512_storeu_ps(o + y_stride, leaky512(z1, sl, slope));
      _mm512_mask_storeu_ps(o + y_stride + 16, low8, _mm512_shuffle_f32x4(z2, z2, 0xEE));
    }
  }
}

// attend() with AVX2 on three 8-lane vectors a pixel: gated in input order,
// then shuffled by interleaving 4-channel quarters (output 8k..8k+7 is
// inputs 4k..4k+3 with 12+4k..15+4k).
FDIWN_X256 inline __m256 interleave(__m128 a, __m128 b) {
  return _mm256_set_m128(_mm_unpackhi_ps(a, b), _mm_unpacklo_ps(a, b));
}

// The gated pixel g (input order) shuffled, scaled, plus x, activated, at o.
FDIWN_X256 inline void put_avx2(const __m256 (&g)[3], __m256 bs, const float* x, __m256 xs,
                                float slope, __m256 sl, float* o) {
  const __m128 q[6] = {_mm256_castps256_ps128(g[0]), _mm256_extractf128_ps(g[0], 1),
                       _mm256_castps256_ps128(g[1]), _mm256_extractf128_ps(g[1], 1),
                       _mm256_castps256_ps128(g[2]), _mm256_extractf128_ps(g[2], 1)};
  __m256 z[3] = {interleave(q[0], q[3]), interleave(q[1], q[4]), interleave(q[2], q[5])};
  for (int k = 0; k < 3; ++k) {
    z[k] = _mm256_mul_ps(bs, z[k]);
    if (x) z[k] = _mm256_fmadd_ps(xs, _mm256_loadu_ps(x + 8 * k), z[k]);
    if (slope != 1.0f) {
      const __m256 negative = _mm256_cmp_ps(z[k], _mm256_setzero_ps(), _CMP_LT_OQ);
      z[k] = _mm256_blendv_ps(z[k], _mm256_mul_ps(z[k], sl), negative);
    }
    _mm256_storeu_ps(o + 8 * k, z[k]);
  }
}

// Lanes 2, 3, 6 and 7 of a and of b: [a2 a3 b2 b3 a6 a7 b6 b7].
FDIWN_X256 inline __m256 odd_pairs(__m256 a, __m256 b) {
  return _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2));
}

FDIWN_X256 void attend_avx2(const float* t, const Gates& gates, float body_scale, const float* x,
                            float x_scale, float slope, float* y, int64_t y_stride, int64_t count) {
  __m256 ga[3], gb[3], fixed[3];
  bool channel_gates = true;  // the network's layout (AttentionGate::gates)
  for (int k = 0; k < 3; ++k) {
    ga[k] = _mm256_loadu_ps(gates.a.data() + 8 * k);
    gb[k] = _mm256_loadu_ps(gates.b.data() + 8 * k);
    // With a = 0 the gate is the constant sigmoid(b): the same instructions
    // on the same values as in the loop, so the same bits (for finite
    // inputs: an infinite one gives inf * sigmoid(b) here, NaN there).
    fixed[k] = x256::sigmoid(_mm256_fmadd_ps(ga[k], _mm256_setzero_ps(), gb[k]));
  }
  for (int c = 0; c < kC; ++c) channel_gates = channel_gates && (c % 4 >= 2 || gates.a[c] == 0);
  const __m256 bs = _mm256_set1_ps(body_scale), xs = _mm256_set1_ps(x_scale);
  const __m256 sl = _mm256_set1_ps(slope);
  int64_t i = 0;
  if (channel_gates) {
    // Channels 4m and 4m+1 have channel gates (constants), 4m+2 and 4m+3
    // spatial ones: two pixels' six vectors need three sigmoids, not six,
    // their spatial lanes packed in pairs of vectors.
    const __m256 pa[3] = {odd_pairs(ga[0], ga[1]), odd_pairs(ga[2], ga[0]),
                          odd_pairs(ga[1], ga[2])};
    const __m256 pb[3] = {odd_pairs(gb[0], gb[1]), odd_pairs(gb[2], gb[0]),
                          odd_pairs(gb[1], gb[2])};
    for (; i + 2 <= count; i += 2) {
      const float* p = t + i * kC;
      __m256 v[6];
      for (int k = 0; k < 6; ++k) v[k] = _mm256_loadu_ps(p + 8 * k);
      __m256 g[2][3];
      for (int j = 0; j < 3; ++j) {
        const __m256 s =
            x256::sigmoid(_mm256_fmadd_ps(pa[j], odd_pairs(v[2 * j], v[2 * j + 1]), pb[j]));
        // Back to the lanes they came from, the constants in the others.
        const int first = 2 * j, second = 2 * j + 1;
        const __m256 s1 = _mm256_shuffle_ps(s, s, _MM_SHUFFLE(1, 0, 1, 0));
        const __m256 s2 = _mm256_shuffle_ps(s, s, _MM_SHUFFLE(3, 2, 3, 2));
        g[first / 3][first % 3] =
            _mm256_mul_ps(v[first], _mm256_blend_ps(fixed[first % 3], s1, 0xCC));
        g[second / 3][second % 3] =
            _mm256_mul_ps(v[second], _mm256_blend_ps(fixed[second % 3], s2, 0xCC));
      }
      put_avx2(g[0], bs, x ? x + i * kC : nullptr, xs, slope, sl, y + i * y_stride);
      put_avx2(g[1], bs, x ? x + (i + 1) * kC : nullptr, xs, slope, sl, y + (i + 1) * y_stride);
    }
  }
  for (; i < count; ++i) {
    const float* p = t + i * kC;
    __m256 g[3];
    for (int k = 0; k < 3; ++k) {
      const __m256 v = _mm256_loadu_ps(p + 8 * k);
      g[k] = _mm256_mul_ps(v, x256::sigmoid(_mm256_fmadd_ps(ga[k], v, gb[k])));
    }
    put_avx2(g, bs, x ? x + i * kC : nullptr, xs, slope, sl, y + i * y_stride);
  }
}
#endif

}  // namespace

void attend(const float* t, const Gates& gates, float body_scale, const float* x, float x_scale,
            float slope, float* y, int64_t y_stride, int64_t count) {
  attend_with(simd_level(), t, gates, body_scale, x, x_scale, slope, y, y_stride, count);
}

void attend_with(Simd simd, const float* t, const Gates& gates, float body_scale, const float* x,
                 float x_scale, float slope, float* y, int64_t y_stride, int64_t count) {
#ifdef FDIWN_HAVE_SIMD_KERNELS
  if (!simd_runs(simd) && simd != Simd::None) {
    throw std::logic_error("attend: this CPU lacks the instructions");
  }
  if (simd == Simd::Avx512) {
    return attend_avx512(t, gates, body_scale, x, x_scale, slope, y, y_stride, count);
  }
  if (simd == Simd::Avx2) {
    return attend_avx2(t, gates, body_scale, x, x_scale, slope, y, y_stride, count);
  }
#else
  (void)simd;
#endif
  attend_portable(t, gates, body_scale, x, x_scale, slope, y, y_stride, count);
}

FDIWN_MULTIVERSION
void copy_channels(const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
                   int channels, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    std::memcpy(dst + i * dst_stride, src + i * src_stride, channels * sizeof(float));
  }
}

FDIWN_MULTIVERSION
void interact_first(const float* oa, const float* x, const Weights& ga_in, const Weights& gb_in,
                    float* ob1, float* oa1, int64_t count) {
  float ga[kC], gb[kC];
  for (int c = 0; c < kC; ++c) {
    ga[c] = ga_in[c];
    gb[c] = gb_in[c];
  }
  for (int64_t i = 0; i < count * kC; i += kC) {
    if (ob1) {
      for (int c = 0; c < kC; ++c) ob1[i + c] = ga[c] * oa[i + c] + x[i + c];
    }
    if (oa1) {
      for (int c = 0; c < kC; ++c) oa1[i + c] = gb[c] * x[i + c] + oa[i + c];
    }
  }
}

FDIWN_MULTIVERSION
void interact_second(const float* __restrict x, const Weights& gb1_in, float* __restrict oa,
                     float* __restrict ob, const float* __restrict s1, const float* __restrict s2,
                     const Weights& ga_in, const Weights& gb_in, int64_t count) {
  float gb1[kC], ga[kC], gb[kC];
  for (int c = 0; c < kC; ++c) {
    gb1[c] = gb1_in[c];
    ga[c] = ga_in[c];
    gb[c] = gb_in[c];
  }
  for (int64_t i = 0; i < count * kC; i += kC) {
    for (int c = 0; c < kC; ++c) {
      const float a = oa[i + c], b = ob[i + c];
      const float oa1 = gb1[c] * x[i + c] + a;
      ob[i + c] = (ga[c] * oa1 + b) * s1[i + c];
      oa[i + c] = (gb[c] * b + oa1) * s2[i + c];
    }
  }
}

FDIWN_MULTIVERSION
void add_gated(float* __restrict y, const float* __restrict f, const float* __restrict p,
               int64_t p_stride, const float* __restrict x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const float* pi = p + i * p_stride;
    for (int c = 0; c < kC; ++c) y[i * kC + c] += f[i * kC + c] * pi[c] + x[i * kC + c];
  }
}

FDIWN_MULTIVERSION
void axpy(float* __restrict y, float a, const float* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

FDIWN_MULTIVERSION
void scatter(const float* src, float* dst, int64_t dst_stride, const std::array<int, kC>& to,
             int64_t count) {
  for (int64_t i = 0; i < count; ++i, src += kC, dst += dst_stride) {
    for (int c = 0; c < kC; ++c) dst[to[c]] = src[c];
  }
}

}  // namespace fdiwn::engine::ops
