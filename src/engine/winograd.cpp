#include "engine/winograd.hpp"

#include <algorithm>
#include <stdexcept>

#include "engine/simd.hpp"

namespace fdiwn::engine {

namespace {

// An 8x8 input tile gives 64 transformed points (xi), each a small matrix
// product over the channels, and a 6x6 block of outputs.
constexpr int kTile = 6;  // outputs per tile side
constexpr int kSpan = 8;  // inputs per tile side
constexpr int kPoints = 64;
constexpr int64_t kMaxChannels = 64;

#ifdef FDIWN_HAVE_SIMD_KERNELS

constexpr int kMaxTiles = 24;

// The per-thread blocks of transformed inputs (V) and products (M): zeroed
// once, so tiles past the end of a row hold finite values from before.
float* thread_buffer() {
  thread_local std::vector<float> buffer(2 * kPoints * kMaxTiles * kMaxChannels);
  return buffer.data();
}

struct Call {
  const float* src;
  int64_t in_lo, in_hi, out_lo, out_hi, width, in, out;
  float* dst;
  bool accumulate;
  PostOp post;
  const float* u;  // 64 x in x u_stride
  int64_t u_stride;
  const float* bias;
};

// The kernels for each instruction set (simd.hpp).
namespace w512 {
using namespace x512;
#define FDIWN_KERNEL FDIWN_X512
#define FDIWN_KERNEL_INLINE FDIWN_X512_INLINE
#include "engine/winograd_kernels.inc"
#undef FDIWN_KERNEL
#undef FDIWN_KERNEL_INLINE
}  // namespace w512

namespace w256 {
using namespace x256;
#define FDIWN_KERNEL FDIWN_X256
#define FDIWN_KERNEL_INLINE FDIWN_X256_INLINE
#include "engine/winograd_kernels.inc"
#undef FDIWN_KERNEL
#undef FDIWN_KERNEL_INLINE
}  // namespace w256

#endif  // FDIWN_HAVE_SIMD_KERNELS

}  // namespace

bool Winograd3x3::available() {
  return simd_level() != Simd::None;
}

bool Winograd3x3::suits(int64_t in, int64_t out) {
  // Fewer input channels and the transforms cost more than they save (the
  // network's 3-channel head stays direct).
  return in >= 8 && in <= kMaxChannels && out >= 1 && out <= kMaxChannels;
}

Winograd3x3::Winograd3x3(const float* weight, const float* bias, int64_t in, int64_t out,
                         PostOp post, Simd simd)
    : in_(in), out_(out), out_vectors_((out + 15) / 16), post_(post), simd_(simd) {
  if (!suits(in, out)) throw std::logic_error("Winograd3x3: unsupported channel counts");
  if (!simd_runs(simd)) throw std::logic_error("Winograd3x3: this CPU lacks the instructions");
  const int64_t out_pad = 16 * out_vectors_;
  u_.assign(static_cast<std::size_t>(kPoints * in * out_pad), 0.0f);
  bias_.assign(static_cast<std::size_t>(out_pad), 0.0f);
  for (int64_t o = 0; o < out; ++o) {
    if (bias != nullptr) bias_[o] = bias[o];
    for (int64_t i = 0; i < in; ++i) {
      const float* g = weight + (o * in + i) * 9;
      // G g G^T, in double, with G = [1 0 0; -2/9 -2/9 -2/9; -2/9 2/9 -2/9;
      // 1/90 1/45 2/45; 1/90 -1/45 2/45; 32/45 16/45 8/45; 32/45 -16/45 8/45;
      // 0 0 1] (the interpolation points 0, 1, -1, 2, -2, 1/2, -1/2 and
      // infinity, row by row).
      static constexpr double G[kSpan][3] = {{1, 0, 0},
                                             {-2.0 / 9, -2.0 / 9, -2.0 / 9},
                                             {-2.0 / 9, 2.0 / 9, -2.0 / 9},
                                             {1.0 / 90, 1.0 / 45, 2.0 / 45},
                                             {1.0 / 90, -1.0 / 45, 2.0 / 45},
                                             {32.0 / 45, 16.0 / 45, 8.0 / 45},
                                             {32.0 / 45, -16.0 / 45, 8.0 / 45},
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
#ifdef FDIWN_HAVE_SIMD_KERNELS
  const Call c{src,
               in_lo,
               in_hi,
               out_lo,
               out_hi,
               width,
               in_,
               out_,
               dst,
               accumulate,
               post_,
               u_.data(),
               16 * out_vectors_,
               bias_.data()};
  if (simd_ == Simd::Avx512) return w512::convolve(c);
  return w256::convolve(c);
#else
  (void)src, (void)in_lo, (void)in_hi, (void)out_lo, (void)out_hi, (void)width, (void)dst,
      (void)accumulate;
  throw std::logic_error("Winograd3x3: not built for this CPU");
#endif
}

}  // namespace fdiwn::engine
