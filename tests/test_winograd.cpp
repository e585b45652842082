// Winograd's F(6x6, 3x3) kernels (AVX-512 and AVX2, each the CPU runs)
// against LibTorch's conv2d: every count of output vectors (1-4 of 16
// lanes, 1-8 of 8), whole and half last vectors, input channels that fill vectors partly, odd sizes
// (tiles half outside the image), widths beyond one block of tiles, bands of
// one row and of many, ReLU, sigmoid, accumulation and no bias.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/conv_kernel.hpp"
#include "engine/winograd.hpp"
#include "simd_levels.hpp"

namespace fdiwn::test {
namespace {

using engine::Winograd3x3;

struct Case {
  int64_t in, out, h, w, rows;
  engine::PostOp post = engine::PostOp::None;
  bool accumulate = false, bias = true;
};

std::string describe(const Case& c) {
  return std::to_string(c.in) + "->" + std::to_string(c.out) + " " + std::to_string(c.h) + "x" +
         std::to_string(c.w) + " bands of " + std::to_string(c.rows) +
         (c.post == engine::PostOp::Relu ? " relu" : "") +
         (c.post == engine::PostOp::Sigmoid ? " sigmoid" : "") +
         (c.accumulate ? " accumulate" : "") + (c.bias ? "" : " no bias");
}

// Every band through rows(), assembled, equals conv2d of the whole image
// (plus what dst held, with accumulate) within float rounding.
void check(const Case& c) {
  SCOPED_TRACE(describe(c));
  ASSERT_TRUE(Winograd3x3::suits(c.in, c.out));
  torch::manual_seed(c.in * 1000 + c.out * 100 + c.h * 10 + c.w);
  const auto weight = torch::randn({c.out, c.in, 3, 3}) * 0.2;
  const auto bias = c.bias ? torch::randn({c.out}) : torch::Tensor();
  const auto x = torch::randn({1, c.in, c.h, c.w}) * 10;
  const auto before = torch::randn({c.h, c.w, c.out});
  auto want = torch::conv2d(x, weight, bias, 1, 1).squeeze(0).permute({1, 2, 0});
  if (c.accumulate) want = want + before;
  // The error is relative to the values before the activation (both are
  // 1-Lipschitz, so they never make it larger).
  const double mag = want.abs().max().item<double>();
  if (c.post == engine::PostOp::Relu) want = torch::relu(want);
  if (c.post == engine::PostOp::Sigmoid) want = torch::sigmoid(want);
  const auto src = x.squeeze(0).permute({1, 2, 0}).contiguous();
  for (const engine::Simd simd : runnable_simd()) {
    SCOPED_TRACE(simd_name(simd));
    const Winograd3x3 wino(weight.contiguous().data_ptr<float>(),
                           c.bias ? bias.data_ptr<float>() : nullptr, c.in, c.out, c.post, simd);
    auto dst = c.accumulate ? before.clone() : torch::full({c.h, c.w, c.out}, 1e30);
    for (int64_t lo = 0; lo < c.h; lo += c.rows) {
      const int64_t hi = std::min(c.h, lo + c.rows);
      const int64_t in_lo = std::max<int64_t>(0, lo - 1), in_hi = std::min(c.h, hi + 1);
      wino.rows(src.data_ptr<float>() + in_lo * c.w * c.in, in_lo, in_hi, lo, hi, c.h, c.w,
                dst.data_ptr<float>() + lo * c.w * c.out, c.accumulate);
    }
    const double err = (dst - want).abs().max().item<double>();
    EXPECT_LE(err, 1e-5 * std::max(1.0, mag)) << "largest error " << err << " of " << mag;
  }
}

// Without AVX2 the engine runs every 3x3 kernel through oneDNN (the
// ConvKernel tests); here the kernels can only be run where they exist.
bool runnable() {
#if defined(__x86_64__)
  EXPECT_EQ(Winograd3x3::available(),
            (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) ||
                (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")));
#endif
  return Winograd3x3::available();
}

TEST(Winograd, NetworkShapesInBands) {
  if (!runnable()) return;
  check({12, 24, 37, 29, 8});
  check({24, 24, 26, 64, 9});
  check({48, 24, 17, 30, 5});
  check({24, 64, 11, 13, 4});
  check({64, 12, 15, 21, 6});
}

TEST(Winograd, EveryCountOfOutputVectors) {
  if (!runnable()) return;
  // On 16 lanes, 17, 24, 40 and 56 end in an 8-lane half; on 8 lanes, 12,
  // 20, 27, 36 and 60 in a 4-lane one (27: 3 of its lanes), and 13, 30 and
  // 63 in a masked full vector.
  for (int64_t out : {5, 12, 13, 16, 17, 20, 24, 27, 30, 32, 36, 40, 48, 56, 60, 63, 64}) {
    check({8, out, 9, 10, 3});
  }
}

TEST(Winograd, InputChannelsFillingVectorsPartly) {
  if (!runnable()) return;
  for (int64_t in : {8, 11, 12, 15, 16, 17, 20, 33, 63}) check({in, 24, 7, 9, 7});
}

TEST(Winograd, OddAndTinyImages) {
  if (!runnable()) return;
  check({12, 24, 1, 1, 1});
  check({12, 24, 1, 7, 1});
  check({12, 24, 7, 1, 2});
  check({12, 24, 2, 2, 1});
  check({12, 24, 3, 5, 3});
}

TEST(Winograd, RowsWiderThanABlockOfTiles) {
  if (!runnable()) return;
  // Tiles a block on 16 lanes, then on 8.
  check({12, 16, 6, 101, 3});  // 24, 6
  check({24, 24, 4, 51, 2});   // 12, 4
  check({12, 48, 5, 35, 5});   // 8, 2
  check({12, 64, 5, 27, 1});   // 6, 1
  check({12, 8, 5, 53, 4});    // 24, 12
}

TEST(Winograd, ActivationsAccumulateAndNoBias) {
  if (!runnable()) return;
  using engine::PostOp;
  check({12, 24, 13, 19, 4, PostOp::Relu});
  check({12, 24, 13, 19, 4, PostOp::Sigmoid});
  check({24, 12, 13, 19, 5, PostOp::None, /*accumulate=*/true});
  check({24, 24, 13, 19, 13, PostOp::Relu, true});
  check({24, 24, 7, 9, 3, PostOp::Sigmoid, true});
  check({12, 24, 9, 9, 2, PostOp::None, false, /*bias=*/false});
  // The last vector a half one: whole, masked, with each of the above.
  check({12, 12, 11, 9, 4, PostOp::Sigmoid});
  check({24, 27, 9, 11, 3, PostOp::Sigmoid, true});
  check({24, 27, 9, 11, 5, PostOp::Relu, true});
  check({12, 40, 7, 10, 4, PostOp::None, true, false});
}

TEST(Winograd, ShapesItRefuses) {
  EXPECT_FALSE(Winograd3x3::suits(3, 24));  // the head: transforms would cost more
  EXPECT_FALSE(Winograd3x3::suits(24, 65));
  EXPECT_FALSE(Winograd3x3::suits(65, 24));
  EXPECT_THROW(Winograd3x3(nullptr, nullptr, 3, 24, engine::PostOp::None), std::logic_error);
}

}  // namespace
}  // namespace fdiwn::test
