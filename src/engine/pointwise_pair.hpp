// The 1x1 pair inside every WIRW/WCRW body, dst = W2 relu(W1 src + b1) + b2,
// fused into one pass over the pixels: a few pixels at a time, the wide
// intermediate (48 to 108 channels, 2-5 times the input and output) goes from
// registers to a block in L1 and back, never to memory, and no call crosses
// into a library per run. Through oneDNN the pair is two calls per run, with
// the intermediate written out and read back between them.
//
// Hand-written for AVX-512 and for AVX2 (vectors over the output channels
// of a pixel, as in winograd.cpp; one source, pointwise_kernels.inc); the
// engine uses it where the CPU has either and the shape is one of the
// network's, and oneDNN's two kernels everywhere else.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/simd.hpp"

namespace fdiwn::engine {

class PointwisePair {
 public:
  /// Whether this process can use it: the CPU has AVX-512F and VL, or AVX2
  /// and FMA (and the build has the kernels).
  static bool available();
  /// Whether it takes a pair of this shape (in -> wide -> out): the
  /// network's, 24 -> 48 -> 12 (WIRW), 12 -> 48 -> 12 (WCRW of the
  /// distillation) and 48 -> 96 -> 24 (the fusion WCRW) at x2 and x3, and
  /// at x4, whose bodies are wider, 24 -> 60 -> 12, 12 -> 54 -> 12 and
  /// 48 -> 108 -> 24.
  static bool suits(int64_t in, int64_t wide, int64_t out);

  /// w1: wide x in, b1: wide values or null; w2: out x wide, b2: out values
  /// or null (the convolutions' weights, contiguous, 1x1 dropped); `simd`:
  /// the kernels' instruction set (the tests run each this CPU has).
  PointwisePair(const float* w1, const float* b1, const float* w2, const float* b2, int64_t in,
                int64_t wide, int64_t out, Simd simd = simd_level());

  /// dst = W2 relu(W1 src + b1) + b2 on `count` consecutive channels-last
  /// pixels (src: count x in, dst: count x out; not overlapping).
  void pixels(const float* src, int64_t count, float* dst) const;

  int64_t in_channels() const { return in_; }
  int64_t wide_channels() const { return wide_; }
  int64_t out_channels() const { return out_; }

 private:
  int64_t in_, wide_, out_, wide_pad_, out_pad_;
  Simd simd_;
  std::vector<float> w1_;  // in x wide_pad_: W1 transposed, a row per input channel, zero padded
  std::vector<float> b1_;  // wide_pad_, zero padded
  std::vector<float> w2_;  // wide x out_pad_: W2 transposed, zero padded
  std::vector<float> b2_;  // out_pad_, zero padded
};

}  // namespace fdiwn::engine
