#include "engine/winograd.hpp"

#include <algorithm>
#include <stdexcept>

#include "engine/avx512.hpp"
#include "engine/simd_exp.hpp"

namespace fdiwn::engine {

namespace {

// A 6x6 input tile gives 36 transformed points (xi), each a small matrix
// product over the channels, and a 4x4 block of outputs.
constexpr int kTile = 4;  // outputs per tile side
constexpr int kSpan = 6;  // inputs per tile side
constexpr int kPoints = 36;
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

// The transforms are written once for 16-lane vectors and for 8-lane ones
// (lanes:: in avx512.hpp), which carry a last vector of at most 8 channels
// (24 = 16 + 8) at half the cost where a 16-lane operation takes both of a
// core's 256-bit units (AMD Zen 4), and at the same cost elsewhere.
using namespace lanes;

// B^T d for six values d0..d5 (one column or row of a tile), B^T = [4 0 -5 0 1 0;
// 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
template <class V>
FDIWN_AVX512_INLINE inline void input_1d(const V (&d)[kSpan], V (&r)[kSpan]) {
  const V a = fnmadd(4.0f, d[2], d[4]);  // d4 - 4 d2
  const V b = fnmadd(4.0f, d[1], d[3]);  // d3 - 4 d1
  const V c = sub(d[4], d[2]);
  const V e = add(sub(d[3], d[1]), sub(d[3], d[1]));  // 2 (d3 - d1)
  r[0] = fmadd(4.0f, d[0], fnmadd(5.0f, d[2], d[4]));
  r[1] = add(a, b);
  r[2] = sub(a, b);
  r[3] = add(c, e);
  r[4] = sub(c, e);
  r[5] = fmadd(4.0f, d[1], fnmadd(5.0f, d[3], d[5]));
}

// B^T d B for one channel vector of one tile, d[y][x] its input values.
template <class V>
FDIWN_AVX512_INLINE inline void transform_input(const V (&d)[kSpan][kSpan], float* v,
                                                int64_t point_stride) {
  V t[kSpan][kSpan];  // t[x][y]: column x transformed
  for (int x = 0; x < kSpan; ++x) {
    const V col[kSpan] = {d[0][x], d[1][x], d[2][x], d[3][x], d[4][x], d[5][x]};
    input_1d(col, t[x]);
  }
  for (int y = 0; y < kSpan; ++y) {
    const V row[kSpan] = {t[0][y], t[1][y], t[2][y], t[3][y], t[4][y], t[5][y]};
    V r[kSpan];
    input_1d(row, r);
    for (int x = 0; x < kSpan; ++x) store(v + (y * kSpan + x) * point_stride, r[x]);
  }
}

// One channel vector of one tile (`Mask` says its lanes): loaded (zeros
// outside the image or the band's rows) and transformed.
template <class V, class Mask>
FDIWN_AVX512_INLINE inline void load_vector(const float* const* rows, int64_t col0, int64_t width,
                                            int64_t in, bool inside, Mask mask, float* v,
                                            int64_t point_stride) {
  V d[kSpan][kSpan];
  if (inside) {  // most tiles: no checks
    for (int y = 0; y < kSpan; ++y) {
      for (int x = 0; x < kSpan; ++x) d[y][x] = load(mask, rows[y] + (col0 + x) * in);
    }
  } else {
    for (int y = 0; y < kSpan; ++y) {
      for (int x = 0; x < kSpan; ++x) {
        const int64_t col = col0 + x;
        d[y][x] =
            rows[y] != nullptr && col >= 0 && col < width ? load(mask, rows[y] + col * in) : V{};
      }
    }
  }
  transform_input(d, v, point_stride);
}

// One tile's transformed inputs, all channel vectors; `rows` are its six
// input rows (null: zero padding), `col0` its first column (may be -1).
// With `half`, the last vector has at most 8 channels.
FDIWN_AVX512 void load_tile(const float* const* rows, int64_t col0, int64_t width, int64_t in,
                            int vectors, __mmask16 last, bool half, float* v,
                            int64_t point_stride) {
  bool inside = col0 >= 0 && col0 + kSpan - 1 < width;
  for (int y = 0; y < kSpan; ++y) inside = inside && rows[y] != nullptr;
  const float* shifted[kSpan];
  for (int vec = 0; vec < vectors; ++vec) {
    for (int y = 0; y < kSpan; ++y) shifted[y] = rows[y] == nullptr ? nullptr : rows[y] + vec * 16;
    float* dst = v + vec * 16;
    if (vec < vectors - 1) {
      load_vector<__m512>(shifted, col0, width, in, inside, __mmask16(0xFFFF), dst, point_stride);
    } else if (half) {
      load_vector<__m256>(shifted, col0, width, in, inside, __mmask8(last), dst, point_stride);
    } else {
      load_vector<__m512>(shifted, col0, width, in, inside, last, dst, point_stride);
    }
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

// A^T m for six values m0..m5, A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0;
// 0 1 -1 8 -8 1].
template <class V>
FDIWN_AVX512_INLINE inline void output_1d(const V (&m)[kSpan], V (&y)[kTile]) {
  const V a = add(m[1], m[2]), b = sub(m[1], m[2]);
  const V c = add(m[3], m[4]), d = sub(m[3], m[4]);
  y[0] = add(add(m[0], a), c);
  y[1] = fmadd(2.0f, d, b);
  y[2] = fmadd(4.0f, c, a);
  y[3] = add(fmadd(8.0f, d, b), m[5]);
}

// A^T m A for one output vector of one tile (`Mask` says its lanes), plus
// bias, the destination's values (accumulate) and the activation; written
// where the tile's outputs exist.
template <class V, class Mask>
FDIWN_AVX512_INLINE inline void transform_output(const float* m, int64_t point_stride, V bias,
                                                 PostOp post, bool accumulate,
                                                 float* const* out_rows, int64_t col0,
                                                 int64_t width, int64_t out, Mask mask) {
  V s[kTile][kSpan];  // s[i][x]: column x, output row i
  for (int x = 0; x < kSpan; ++x) {
    V p[kSpan], y[kTile];
    for (int i = 0; i < kSpan; ++i) p[i] = load(Mask(~0), m + (i * kSpan + x) * point_stride);
    output_1d(p, y);
    for (int i = 0; i < kTile; ++i) s[i][x] = y[i];
  }
  for (int i = 0; i < kTile; ++i) {
    if (out_rows[i] == nullptr) continue;
    V y[kTile];
    output_1d(s[i], y);
    for (int j = 0; j < kTile; ++j) {
      if (col0 + j >= width) continue;
      float* dst = out_rows[i] + (col0 + j) * out;
      V r = add(y[j], bias);
      if (accumulate) r = add(r, load(mask, dst));
      if (post == PostOp::Relu) r = max(r, V{});
      if (post == PostOp::Sigmoid) r = sigmoid(r);
      store(mask, dst, r);
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
  const bool in_half = c.in - 16 * (in_vectors - 1) <= 8;
  const __mmask16 out_last = static_cast<__mmask16>((1u << (c.out - 16 * (OV - 1))) - 1u);
  float* v = thread_buffer();
  float* m = v + kPoints * kMaxTiles * kMaxChannels;
  __m512 bias[OV];
  for (int o = 0; o < OV; ++o) bias[o] = _mm512_loadu_ps(c.bias + o * 16);
  const int64_t tile_rows = (c.out_hi - c.out_lo + kTile - 1) / kTile;
  const int64_t tile_cols = (c.width + kTile - 1) / kTile;
  for (int64_t ty = 0; ty < tile_rows; ++ty) {
    // Rows past the band's input are read as zeros: they only reach outputs
    // past its end, which are not written.
    const float* rows[kSpan];
    for (int y = 0; y < kSpan; ++y) {
      const int64_t r = c.out_lo + kTile * ty - 1 + y;
      rows[y] = r >= c.in_lo && r < c.in_hi ? c.src + (r - c.in_lo) * c.width * c.in : nullptr;
    }
    float* outs[kTile];
    for (int i = 0; i < kTile; ++i) {
      const int64_t r = c.out_lo + kTile * ty + i;
      outs[i] = r < c.out_hi ? c.dst + (r - c.out_lo) * c.width * c.out : nullptr;
    }
    for (int64_t tx0 = 0; tx0 < tile_cols; tx0 += T) {
      const int n = static_cast<int>(std::min<int64_t>(T, tile_cols - tx0));
      for (int t = 0; t < n; ++t) {
        load_tile(rows, kTile * (tx0 + t) - 1, c.width, c.in, in_vectors, in_last, in_half,
                  v + t * in_pad, T * in_pad);
      }
      for (int xi = 0; xi < kPoints; ++xi) {
        multiply<OV, T, Half>(v + xi * T * in_pad, in_pad, c.u + xi * c.in * out_pad, c.in,
                              m + xi * T * out_pad);
      }
      for (int o = 0; o < OV; ++o) {
        float* shifted[kTile];  // this output vector's channels
        for (int i = 0; i < kTile; ++i)
          shifted[i] = outs[i] == nullptr ? nullptr : outs[i] + o * 16;
        for (int t = 0; t < n; ++t) {
          const float* mt = m + t * out_pad + o * 16;
          const int64_t col0 = kTile * (tx0 + t);
          if (o < OV - 1) {
            transform_output(mt, T * out_pad, bias[o], c.post, c.accumulate, shifted, col0, c.width,
                             c.out, __mmask16(0xFFFF));
          } else if (Half) {
            transform_output(mt, T * out_pad, _mm512_castps512_ps256(bias[o]), c.post, c.accumulate,
                             shifted, col0, c.width, c.out, __mmask8(out_last));
          } else {
            transform_output(mt, T * out_pad, bias[o], c.post, c.accumulate, shifted, col0, c.width,
                             c.out, out_last);
          }
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
      // G g G^T, in double, with G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
      // 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
      static constexpr double G[kSpan][3] = {{0.25, 0, 0},
                                             {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                             {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                             {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                             {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                             {0, 0, 1}};
      double gg[kSpan][3];  // G g
      for (int y = 0; y < kSpan; ++y) {
        for (int x = 0; x < 3; ++x) {
          gg[y][x] = G[y][0] * g[x] + G[y][1] * g[3 + x] + G[y][2] * g[6 + x];
        }
      }
      for (int y = 0; y < kSpan; ++y) {
        for (int x = 0; x < kSpan; ++x) {
          const double value = gg[y][0] * G[x][0] + gg[y][1] * G[x][1] + gg[y][2] * G[x][2];
          u_[((y * kSpan + x) * in + i) * out_pad + o] = static_cast<float>(value);
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
