#include "engine/winograd.hpp"

#include <algorithm>
#include <stdexcept>

#include "engine/avx512.hpp"
#include "engine/simd_exp.hpp"

namespace fdiwn::engine {

namespace {

// A 4x4 input tile gives 16 transformed points (xi), each a small matrix
// product over the channels.
constexpr int kPoints = 16;
constexpr int64_t kMaxChannels = 64;

#ifdef FDIWN_HAVE_AVX512_KERNELS

constexpr int kMaxTiles = 24;

// Tiles per block: the products' accumulators (tiles x output vectors) take
// 24 of the 32 vector registers, the weights and the broadcast value the rest.
constexpr int block_tiles(int out_vectors) {
  return out_vectors == 1 ? 24 : out_vectors == 2 ? 12 : out_vectors == 3 ? 8 : 6;
}

// The per-thread blocks of transformed inputs (V) and products (M): zeroed
// once, so tiles past the end of a row hold finite values from before.
float* thread_buffer() {
  thread_local std::vector<float> buffer(2 * kPoints * kMaxTiles * kMaxChannels);
  return buffer.data();
}

// B^T d B for one channel vector of one tile, d[y][x] its input values.
FDIWN_AVX512_INLINE inline void transform_input(const __m512 (&d)[4][4], float* v,
                                                int64_t point_stride) {
  __m512 t[4][4];
  for (int x = 0; x < 4; ++x) {
    t[0][x] = _mm512_sub_ps(d[0][x], d[2][x]);
    t[1][x] = _mm512_add_ps(d[1][x], d[2][x]);
    t[2][x] = _mm512_sub_ps(d[2][x], d[1][x]);
    t[3][x] = _mm512_sub_ps(d[1][x], d[3][x]);
  }
  for (int y = 0; y < 4; ++y) {
    float* o = v + y * 4 * point_stride;
    _mm512_storeu_ps(o, _mm512_sub_ps(t[y][0], t[y][2]));
    _mm512_storeu_ps(o + point_stride, _mm512_add_ps(t[y][1], t[y][2]));
    _mm512_storeu_ps(o + 2 * point_stride, _mm512_sub_ps(t[y][2], t[y][1]));
    _mm512_storeu_ps(o + 3 * point_stride, _mm512_sub_ps(t[y][1], t[y][3]));
  }
}

// One tile's transformed inputs, all channel vectors; `rows` are its four
// input rows (null: zero padding), `col0` its first column (may be -1).
// Tiles inside the image (most) load without checks.
FDIWN_AVX512 void load_tile(const float* const* rows, int64_t col0, int64_t width, int64_t in,
                            int vectors, __mmask16 last, float* v, int64_t point_stride) {
  const bool inside = rows[0] != nullptr && rows[1] != nullptr && rows[2] != nullptr &&
                      rows[3] != nullptr && col0 >= 0 && col0 + 3 < width;
  for (int vec = 0; vec < vectors; ++vec) {
    const __mmask16 mask = vec == vectors - 1 ? last : __mmask16(0xFFFF);
    __m512 d[4][4];
    if (inside) {
      for (int y = 0; y < 4; ++y) {
        const float* p = rows[y] + col0 * in + vec * 16;
        for (int x = 0; x < 4; ++x) d[y][x] = _mm512_maskz_loadu_ps(mask, p + x * in);
      }
    } else {
      for (int y = 0; y < 4; ++y) {
        for (int x = 0; x < 4; ++x) {
          const int64_t col = col0 + x;
          d[y][x] = rows[y] != nullptr && col >= 0 && col < width
                        ? _mm512_maskz_loadu_ps(mask, rows[y] + col * in + vec * 16)
                        : _mm512_setzero_ps();
        }
      }
    }
    transform_input(d, v + vec * 16, point_stride);
  }
}

// m (T tiles x 16 * OV) = v (T tiles x in, row stride `v_stride`) * u (in x
// 16 * OV), for one transformed point: the accumulators stay in registers.
// With `Half`, the last output vector has at most 8 channels (24 outputs:
// 16 + 8) and is computed on 8 lanes: where a 16-lane multiply-add takes
// both of a core's 256-bit units (AMD Zen 4), that saves a quarter of the
// work, and elsewhere it costs the same.
template <int OV, int T, bool Half>
FDIWN_AVX512 void multiply(const float* v, int64_t v_stride, const float* u, int64_t in, float* m) {
  static_assert(!Half || OV >= 2, "a half vector follows at least one full one");
  constexpr int F = Half ? OV - 1 : OV;  // full vectors
  __m512 acc[T][F];
  __m256 half[T];
#pragma GCC unroll 32
  for (int t = 0; t < T; ++t) {
#pragma GCC unroll 4
    for (int o = 0; o < F; ++o) acc[t][o] = _mm512_setzero_ps();
    half[t] = _mm256_setzero_ps();
  }
  for (int64_t c = 0; c < in; ++c) {
    __m512 w[F];
#pragma GCC unroll 4
    for (int o = 0; o < F; ++o) w[o] = _mm512_loadu_ps(u + c * 16 * OV + o * 16);
    const __m256 wh = Half ? _mm256_loadu_ps(u + c * 16 * OV + F * 16) : _mm256_setzero_ps();
#pragma GCC unroll 32
    for (int t = 0; t < T; ++t) {
      const __m512 b = _mm512_set1_ps(v[t * v_stride + c]);
#pragma GCC unroll 4
      for (int o = 0; o < F; ++o) acc[t][o] = _mm512_fmadd_ps(b, w[o], acc[t][o]);
      if (Half) half[t] = _mm256_fmadd_ps(_mm512_castps512_ps256(b), wh, half[t]);
    }
  }
#pragma GCC unroll 32
  for (int t = 0; t < T; ++t) {
#pragma GCC unroll 4
    for (int o = 0; o < F; ++o) _mm512_storeu_ps(m + (t * OV + o) * 16, acc[t][o]);
    if (Half) _mm256_storeu_ps(m + (t * OV + F) * 16, half[t]);
  }
}

// A^T m A for one output vector of one tile, plus bias, the destination's
// values (accumulate) and the activation; written where the tile's outputs
// exist.
FDIWN_AVX512_INLINE inline void transform_output(const float* m, int64_t point_stride, __m512 bias,
                                                 PostOp post, bool accumulate,
                                                 float* const* out_rows, int64_t col0,
                                                 int64_t width, int64_t out, int vec,
                                                 __mmask16 mask) {
  __m512 p[16];
  for (int i = 0; i < 16; ++i) p[i] = _mm512_loadu_ps(m + i * point_stride + vec * 16);
  __m512 s[2][4];
  for (int x = 0; x < 4; ++x) {
    s[0][x] = _mm512_add_ps(_mm512_add_ps(p[x], p[4 + x]), p[8 + x]);
    s[1][x] = _mm512_sub_ps(_mm512_sub_ps(p[4 + x], p[8 + x]), p[12 + x]);
  }
  for (int i = 0; i < 2; ++i) {
    if (out_rows[i] == nullptr) continue;
    const __m512 y[2] = {_mm512_add_ps(_mm512_add_ps(s[i][0], s[i][1]), s[i][2]),
                         _mm512_sub_ps(_mm512_sub_ps(s[i][1], s[i][2]), s[i][3])};
    for (int j = 0; j < 2; ++j) {
      if (col0 + j >= width) continue;
      float* dst = out_rows[i] + (col0 + j) * out + vec * 16;
      __m512 r = _mm512_add_ps(y[j], bias);
      if (accumulate) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mask, dst));
      if (post == PostOp::Relu) r = _mm512_max_ps(r, _mm512_setzero_ps());
      if (post == PostOp::Sigmoid) r = simd::sigmoid512(r);
      _mm512_mask_storeu_ps(dst, mask, r);
    }
  }
}

struct Call {
  const float* src;
  int64_t in_lo, in_hi, out_lo, out_hi, width, in, out;
  float* dst;
  bool accumulate;
  PostOp post;
  const float* u;
  const float* bias;
};

template <int OV, bool Half>
FDIWN_AVX512 void run(const Call& c) {
  constexpr int T = block_tiles(OV);
  constexpr int64_t out_pad = 16 * OV;
  const int in_vectors = static_cast<int>((c.in + 15) / 16);
  const int64_t in_pad = 16 * in_vectors;
  const __mmask16 in_last = static_cast<__mmask16>((1u << (c.in - 16 * (in_vectors - 1))) - 1u);
  const __mmask16 out_last = static_cast<__mmask16>((1u << (c.out - 16 * (OV - 1))) - 1u);
  float* v = thread_buffer();
  float* m = v + kPoints * kMaxTiles * kMaxChannels;
  __m512 bias[OV];
  for (int o = 0; o < OV; ++o) bias[o] = _mm512_loadu_ps(c.bias + o * 16);
  const int64_t tile_rows = (c.out_hi - c.out_lo + 1) / 2, tile_cols = (c.width + 1) / 2;
  for (int64_t ty = 0; ty < tile_rows; ++ty) {
    const float* rows[4];
    for (int y = 0; y < 4; ++y) {
      const int64_t r = c.out_lo + 2 * ty - 1 + y;
      rows[y] = r >= c.in_lo && r < c.in_hi ? c.src + (r - c.in_lo) * c.width * c.in : nullptr;
    }
    float* outs[2];
    for (int i = 0; i < 2; ++i) {
      const int64_t r = c.out_lo + 2 * ty + i;
      outs[i] = r < c.out_hi ? c.dst + (r - c.out_lo) * c.width * c.out : nullptr;
    }
    for (int64_t tx0 = 0; tx0 < tile_cols; tx0 += T) {
      const int n = static_cast<int>(std::min<int64_t>(T, tile_cols - tx0));
      for (int t = 0; t < n; ++t) {
        load_tile(rows, 2 * (tx0 + t) - 1, c.width, c.in, in_vectors, in_last, v + t * in_pad,
                  T * in_pad);
      }
      for (int xi = 0; xi < kPoints; ++xi) {
        multiply<OV, T, Half>(v + xi * T * in_pad, in_pad, c.u + xi * c.in * out_pad, c.in,
                              m + xi * T * out_pad);
      }
      for (int t = 0; t < n; ++t) {
        for (int o = 0; o < OV; ++o) {
          transform_output(m + t * out_pad, T * out_pad, bias[o], c.post, c.accumulate, outs,
                           2 * (tx0 + t), c.width, c.out, o,
                           o == OV - 1 ? out_last : __mmask16(0xFFFF));
        }
      }
    }
  }
}

#endif  // FDIWN_HAVE_AVX512_KERNELS

}  // namespace

bool Winograd3x3::available() {
  return avx512_kernels_available();
}

bool Winograd3x3::suits(int64_t in, int64_t out) {
  // Fewer input channels and the transforms cost more than they save (the
  // network's 3-channel head stays direct).
  return in >= 8 && in <= kMaxChannels && out >= 1 && out <= kMaxChannels;
}

Winograd3x3::Winograd3x3(const float* weight, const float* bias, int64_t in, int64_t out,
                         PostOp post)
    : in_(in), out_(out), out_vectors_((out + 15) / 16), post_(post) {
  if (!suits(in, out)) throw std::logic_error("Winograd3x3: unsupported channel counts");
  const int64_t out_pad = 16 * out_vectors_;
  u_.assign(static_cast<std::size_t>(kPoints * in * out_pad), 0.0f);
  bias_.assign(static_cast<std::size_t>(out_pad), 0.0f);
  for (int64_t o = 0; o < out; ++o) {
    if (bias != nullptr) bias_[o] = bias[o];
    for (int64_t i = 0; i < in; ++i) {
      const float* g = weight + (o * in + i) * 9;
      // G g G^T with G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], in double.
      double gg[4][3];
      for (int x = 0; x < 3; ++x) {
        gg[0][x] = g[x];
        gg[1][x] = 0.5 * (double{g[x]} + g[3 + x] + g[6 + x]);
        gg[2][x] = 0.5 * (double{g[x]} - g[3 + x] + g[6 + x]);
        gg[3][x] = g[6 + x];
      }
      for (int y = 0; y < 4; ++y) {
        const double row[4] = {gg[y][0], 0.5 * (gg[y][0] + gg[y][1] + gg[y][2]),
                               0.5 * (gg[y][0] - gg[y][1] + gg[y][2]), gg[y][2]};
        for (int x = 0; x < 4; ++x) {
          u_[((y * 4 + x) * in + i) * out_pad + o] = static_cast<float>(row[x]);
        }
      }
    }
  }
}

void Winograd3x3::rows(const float* src, int64_t in_lo, int64_t in_hi, int64_t out_lo,
                       int64_t out_hi, int64_t /*height*/, int64_t width, float* dst,
                       bool accumulate) const {
#ifdef FDIWN_HAVE_AVX512_KERNELS
  const Call c{src,  in_lo, in_hi,      out_lo, out_hi,    width,       in_,
               out_, dst,   accumulate, post_,  u_.data(), bias_.data()};
  // The last vector half used or not (24 outputs: 16 + 8).
  const bool half = out_ - 16 * (out_vectors_ - 1) <= 8;
  switch (out_vectors_) {
    case 1:
      return run<1, false>(c);
    case 2:
      return half ? run<2, true>(c) : run<2, false>(c);
    case 3:
      return half ? run<3, true>(c) : run<3, false>(c);
    default:
      return half ? run<4, true>(c) : run<4, false>(c);
  }
#else
  (void)src, (void)in_lo, (void)in_hi, (void)out_lo, (void)out_hi, (void)width, (void)dst,
      (void)accumulate;
  throw std::logic_error("Winograd3x3: not built for this CPU");
#endif
}

}  // namespace fdiwn::engine
