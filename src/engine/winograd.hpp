// 3x3 convolutions by Winograd's minimal filtering F(6x6, 3x3) (Lavin and
// Gray, 2016): each 6x6 block of outputs costs 64 multiplies per input and
// output channel instead of 324, which on this network's narrow layers (12
// to 48 channels, where oneDNN's direct kernels stay well below the FMA
// units' peak) more than pays for the transforms. F(6x6, 3x3) rather than
// F(4x4, 3x3) (36 multiplies per 4x4 block, 2.25 per output against 1.78):
// about 6% less CPU time for a whole 640x360 upscale here. Its transforms scale terms
// by up to 32 before they cancel, so it rounds more than F(4x4) (2-3 times
// the error on random 24-channel layers; the network's output, 0-255,
// stays within 0.002 of the authors', tests/test_unit_parity.cpp, against
// 0.0016 with F(4x4), and its 8-bit pixels at least 99.99% identical to
// theirs on Set5).
//
// Hand-written for AVX-512 and for AVX2 (vectors over the channels of a
// pixel, as the engine's channels-last bands hold them, with the bias and
// the activation applied as the outputs are written; one source,
// winograd_kernels.inc); ConvKernel uses it for dense and grouped 3x3
// kernels where the CPU has either, and oneDNN's direct kernels elsewhere.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/conv_kernel.hpp"
#include "engine/simd.hpp"

namespace fdiwn::engine {

class Winograd3x3 {
 public:
  /// Whether this process can use it: the CPU has AVX-512F and VL, or AVX2
  /// and FMA (and the build has the kernels).
  static bool available();
  /// Whether it takes a kernel of this shape (groups 1): up to 64 channels
  /// in and out, and enough of them that the transforms pay.
  static bool suits(int64_t in, int64_t out);

  /// weight: out x in x 3 x 3, contiguous; bias: `out` values or null;
  /// `simd`: the kernels' instruction set (the tests run each this CPU has).
  Winograd3x3(const float* weight, const float* bias, int64_t in, int64_t out, PostOp post,
              Simd simd = simd_level());

  /// As ConvKernel::rows: output rows out_lo..out_hi of an image `height` x
  /// `width` from input rows in_lo..in_hi (dense NHWC), zero padding at the
  /// image's borders; with `accumulate`, dst = post(conv(src) + dst).
  void rows(const float* src, int64_t in_lo, int64_t in_hi, int64_t out_lo, int64_t out_hi,
            int64_t height, int64_t width, float* dst, bool accumulate) const;

 private:
  int64_t in_, out_, out_vectors_;
  PostOp post_;
  Simd simd_;
  std::vector<float> u_;     // 64 x in x (16 * out_vectors_): G g G^T
  std::vector<float> bias_;  // 16 * out_vectors_, zero padded
};

}  // namespace fdiwn::engine
