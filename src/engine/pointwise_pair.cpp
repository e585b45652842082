#include "engine/pointwise_pair.hpp"

#include <cstring>
#include <stdexcept>

#include "engine/avx512.hpp"

namespace fdiwn::engine {

namespace {

// Wide channels per pass of the expanding product: 3 vectors, so that a
// block's accumulators (8 pixels x 3 vectors) take 24 of the 32 vector
// registers, the weights and the broadcast value the rest.
constexpr int64_t kChunk = 48;

#ifdef FDIWN_HAVE_AVX512_KERNELS

constexpr int kPixels = 8;

// h (kPixels x WIDE) = relu(W1 src + b1) for one chunk of 48 wide channels
// (w1, b1 and h start at the chunk): the accumulators start at the bias.
template <int IN, int WIDE>
FDIWN_AVX512 inline void expand(const float* src, const float* w1, const float* b1, float* h) {
  __m512 acc[kPixels][3];
  for (int k = 0; k < 3; ++k) {
    const __m512 b = _mm512_loadu_ps(b1 + 16 * k);
#pragma GCC unroll 8
    for (int p = 0; p < kPixels; ++p) acc[p][k] = b;
  }
#pragma GCC unroll 4
  for (int i = 0; i < IN; ++i) {
    __m512 w[3];
    for (int k = 0; k < 3; ++k) w[k] = _mm512_loadu_ps(w1 + i * WIDE + 16 * k);
#pragma GCC unroll 8
    for (int p = 0; p < kPixels; ++p) {
      const __m512 x = _mm512_set1_ps(src[p * IN + i]);
      for (int k = 0; k < 3; ++k) acc[p][k] = _mm512_fmadd_ps(x, w[k], acc[p][k]);
    }
  }
  const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int p = 0; p < kPixels; ++p) {
    for (int k = 0; k < 3; ++k)
      _mm512_storeu_ps(h + p * WIDE + 16 * k, _mm512_max_ps(acc[p][k], zero));
  }
}

// dst (kPixels x OUT) = W2 h + b2. The outputs' last vector is partly used
// (12 outputs: a 16-lane vector with 4 zero weights; 24: 16 + 8 lanes, the
// 8 on a 256-bit vector, which costs half a 16-lane multiply-add where that
// takes both of a core's 256-bit units, as in winograd.cpp).
template <int WIDE, int OUT>
FDIWN_AVX512 inline void squeeze(const float* h, const float* w2, const float* b2, float* dst) {
  constexpr int kFull = OUT / 16, kRest = OUT % 16;  // full vectors, channels after them
  constexpr bool kHalf = kRest > 0 && kRest <= 8;
  constexpr int kVectors = kFull + (kRest > 8 ? 1 : 0);  // on 16 lanes
  constexpr int kPad = 16 * (kFull + (kRest > 0 ? 1 : 0));
  static_assert(kVectors + (kHalf ? 1 : 0) >= 1 && kVectors <= 2, "1 to 32 outputs");
  __m512 acc[kPixels][kVectors > 0 ? kVectors : 1];
  __m256 half[kPixels];
  for (int o = 0; o < kVectors; ++o) {
    const __m512 b = _mm512_loadu_ps(b2 + 16 * o);
#pragma GCC unroll 8
    for (int p = 0; p < kPixels; ++p) acc[p][o] = b;
  }
  if (kHalf) {
    const __m256 b = _mm256_loadu_ps(b2 + 16 * kFull);
#pragma GCC unroll 8
    for (int p = 0; p < kPixels; ++p) half[p] = b;
  }
#pragma GCC unroll 4
  for (int m = 0; m < WIDE; ++m) {
    __m512 w[kVectors > 0 ? kVectors : 1];
    for (int o = 0; o < kVectors; ++o) w[o] = _mm512_loadu_ps(w2 + m * kPad + 16 * o);
    const __m256 wh = kHalf ? _mm256_loadu_ps(w2 + m * kPad + 16 * kFull) : _mm256_setzero_ps();
#pragma GCC unroll 8
    for (int p = 0; p < kPixels; ++p) {
      const __m512 x = _mm512_set1_ps(h[p * WIDE + m]);
      for (int o = 0; o < kVectors; ++o) acc[p][o] = _mm512_fmadd_ps(x, w[o], acc[p][o]);
      if (kHalf) half[p] = _mm256_fmadd_ps(_mm512_castps512_ps256(x), wh, half[p]);
    }
  }
  constexpr __mmask16 kLast = kRest > 8 ? __mmask16((1u << kRest) - 1u) : __mmask16(0xFFFF);
  constexpr __mmask8 kHalfMask = __mmask8((1u << (kHalf ? kRest : 8)) - 1u);
#pragma GCC unroll 8
  for (int p = 0; p < kPixels; ++p) {
    float* d = dst + p * OUT;
    for (int o = 0; o < kVectors; ++o) {
      _mm512_mask_storeu_ps(d + 16 * o, o == kVectors - 1 ? kLast : __mmask16(0xFFFF), acc[p][o]);
    }
    if (kHalf) _mm256_mask_storeu_ps(d + 16 * kFull, kHalfMask, half[p]);
  }
}

// One block of kPixels pixels: the intermediate only in `h`, on the stack.
template <int IN, int WIDE, int OUT>
FDIWN_AVX512 void block(const float* src, const float* w1, const float* b1, const float* w2,
                        const float* b2, float* dst) {
  alignas(64) float h[kPixels * WIDE];
  for (int c = 0; c < WIDE; c += kChunk) expand<IN, WIDE>(src, w1 + c, b1 + c, h + c);
  squeeze<WIDE, OUT>(h, w2, b2, dst);
}

struct Packed {
  const float *w1, *b1, *w2, *b2;
};

// Whole blocks in place; the last few pixels through zero-padded copies (a
// block always reads and writes kPixels pixels).
template <int IN, int WIDE, int OUT>
FDIWN_AVX512 void run(const Packed& k, const float* src, int64_t count, float* dst) {
  int64_t p = 0;
  for (; p + kPixels <= count; p += kPixels) {
    block<IN, WIDE, OUT>(src + p * IN, k.w1, k.b1, k.w2, k.b2, dst + p * OUT);
  }
  if (p == count) return;
  const int64_t rest = count - p;
  alignas(64) float in[kPixels * IN] = {};
  alignas(64) float out[kPixels * OUT];
  std::memcpy(in, src + p * IN, sizeof(float) * rest * IN);
  block<IN, WIDE, OUT>(in, k.w1, k.b1, k.w2, k.b2, out);
  std::memcpy(dst + p * OUT, out, sizeof(float) * rest * OUT);
}

#endif  // FDIWN_HAVE_AVX512_KERNELS

}  // namespace

bool PointwisePair::available() {
  return avx512_kernels_available();
}

bool PointwisePair::suits(int64_t in, int64_t wide, int64_t out) {
  // Each shape is a separate instantiation with its loops unrolled; any
  // other goes through oneDNN.
  return (in == 24 && wide == 48 && out == 12) || (in == 12 && wide == 48 && out == 12) ||
         (in == 48 && wide == 96 && out == 24);
}

PointwisePair::PointwisePair(const float* w1, const float* b1, const float* w2, const float* b2,
                             int64_t in, int64_t wide, int64_t out)
    : in_(in), wide_(wide), out_(out), out_pad_(16 * ((out + 15) / 16)) {
  if (!suits(in, wide, out)) throw std::logic_error("PointwisePair: unsupported channel counts");
  static_assert(kChunk % 16 == 0, "whole vectors");
  w1_.assign(static_cast<std::size_t>(in * wide), 0.0f);
  b1_.assign(static_cast<std::size_t>(wide), 0.0f);
  w2_.assign(static_cast<std::size_t>(wide * out_pad_), 0.0f);
  b2_.assign(static_cast<std::size_t>(out_pad_), 0.0f);
  for (int64_t m = 0; m < wide; ++m) {
    if (b1 != nullptr) b1_[m] = b1[m];
    for (int64_t i = 0; i < in; ++i) w1_[i * wide + m] = w1[m * in + i];
    for (int64_t o = 0; o < out; ++o) w2_[m * out_pad_ + o] = w2[o * wide + m];
  }
  for (int64_t o = 0; o < out && b2 != nullptr; ++o) b2_[o] = b2[o];
}

void PointwisePair::pixels(const float* src, int64_t count, float* dst) const {
#ifdef FDIWN_HAVE_AVX512_KERNELS
  const Packed k{w1_.data(), b1_.data(), w2_.data(), b2_.data()};
  if (in_ == 24) return run<24, 48, 12>(k, src, count, dst);
  if (in_ == 12) return run<12, 48, 12>(k, src, count, dst);
  return run<48, 96, 24>(k, src, count, dst);
#else
  (void)src, (void)count, (void)dst;
  throw std::logic_error("PointwisePair: not built for this CPU");
#endif
}

}  // namespace fdiwn::engine
