#include "engine/pointwise_pair.hpp"

#include <cstring>
#include <stdexcept>

#include "engine/simd.hpp"

namespace fdiwn::engine {

namespace {

// The packed rows of W1 and W2 (and b1, b2) are `n` floats padded to a
// multiple of 16, whole vectors on either instruction set; the kernels
// step through them by the same width.
constexpr int packed_width(int64_t n) {
  return static_cast<int>(16 * ((n + 15) / 16));
}

#ifdef FDIWN_HAVE_SIMD_KERNELS

struct Packed {
  const float *w1, *b1, *w2, *b2;
};

// The kernels for each instruction set (simd.hpp).
namespace p512 {
using namespace x512;
#define FDIWN_KERNEL FDIWN_X512
#define FDIWN_KERNEL_INLINE FDIWN_X512_INLINE
#include "engine/pointwise_kernels.inc"
#undef FDIWN_KERNEL
#undef FDIWN_KERNEL_INLINE
}  // namespace p512

namespace p256 {
using namespace x256;
#define FDIWN_KERNEL FDIWN_X256
#define FDIWN_KERNEL_INLINE FDIWN_X256_INLINE
#include "engine/pointwise_kernels.inc"
#undef FDIWN_KERNEL
#undef FDIWN_KERNEL_INLINE
}  // namespace p256

#endif  // FDIWN_HAVE_SIMD_KERNELS

}  // namespace

bool PointwisePair::available() {
  return simd_level() != Simd::None;
}

bool PointwisePair::suits(int64_t in, int64_t wide, int64_t out) {
  // Each shape is a separate instantiation with its loops unrolled; any
  // other goes through oneDNN.
  return (in == 24 && (wide == 48 || wide == 60) && out == 12) ||
         (in == 12 && (wide == 48 || wide == 54) && out == 12) ||
         (in == 48 && (wide == 96 || wide == 108) && out == 24);
}

PointwisePair::PointwisePair(const float* w1, const float* b1, const float* w2, const float* b2,
                             int64_t in, int64_t wide, int64_t out, Simd simd)
    : in_(in),
      wide_(wide),
      out_(out),
      wide_pad_(packed_width(wide)),
      out_pad_(packed_width(out)),
      simd_(simd) {
  if (!suits(in, wide, out)) throw std::logic_error("PointwisePair: unsupported channel counts");
  if (!simd_runs(simd)) throw std::logic_error("PointwisePair: this CPU lacks the instructions");
  // Zeros in W1's and b1's padding: the kernels compute the wide channels
  // in whole vectors, and the padding's must come out as relu(0) = 0.
  w1_.assign(static_cast<std::size_t>(in * wide_pad_), 0.0f);
  b1_.assign(static_cast<std::size_t>(wide_pad_), 0.0f);
  w2_.assign(static_cast<std::size_t>(wide * out_pad_), 0.0f);
  b2_.assign(static_cast<std::size_t>(out_pad_), 0.0f);
  for (int64_t m = 0; m < wide; ++m) {
    if (b1 != nullptr) b1_[m] = b1[m];
    for (int64_t i = 0; i < in; ++i) w1_[i * wide_pad_ + m] = w1[m * in + i];
    for (int64_t o = 0; o < out; ++o) w2_[m * out_pad_ + o] = w2[o * wide + m];
  }
  for (int64_t o = 0; o < out && b2 != nullptr; ++o) b2_[o] = b2[o];
}

void PointwisePair::pixels(const float* src, int64_t count, float* dst) const {
#ifdef FDIWN_HAVE_SIMD_KERNELS
  const Packed k{w1_.data(), b1_.data(), w2_.data(), b2_.data()};
  if (simd_ == Simd::Avx512) return p512::pair(k, in_, wide_, src, count, dst);
  p256::pair(k, in_, wide_, src, count, dst);
#else
  (void)src, (void)count, (void)dst;
  throw std::logic_error("PointwisePair: not built for this CPU");
#endif
}

}  // namespace fdiwn::engine
