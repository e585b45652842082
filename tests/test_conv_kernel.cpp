// The engine's oneDNN kernels against LibTorch's conv2d: over bands of rows
// with their halo (the image's zero padding only at its top and bottom), and
// over runs of pixels, with each fused activation and with accumulation.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/conv_kernel.hpp"

namespace fdiwn::test {
namespace {

using engine::ConvKernel;
using engine::PostOp;
using engine::Span;

torch::Tensor nhwc(const torch::Tensor& t) {
  return t.permute({0, 2, 3, 1}).contiguous();
}

void expect_close(const torch::Tensor& got, const torch::Tensor& want) {
  ASSERT_EQ(got.sizes(), want.sizes());
  const double err = (got - want).abs().max().item<double>();
  const double mag = want.abs().max().item<double>();
  EXPECT_LE(err, 1e-4 * std::max(1.0, mag)) << "largest error " << err << " of " << mag;
}

// Every band of `rows` rows of an h x w image through rows(), assembled,
// equals conv2d of the whole image.
void check_bands(int64_t in, int64_t out, int64_t k, int64_t groups, PostOp post, int64_t h,
                 int64_t w, int64_t rows) {
  SCOPED_TRACE(std::to_string(in) + "->" + std::to_string(out) + " k" + std::to_string(k) + " g" +
               std::to_string(groups) + " " + std::to_string(h) + "x" + std::to_string(w) +
               " bands of " + std::to_string(rows));
  torch::manual_seed(in * 100 + h * 10 + w + rows);
  const auto weight = torch::randn({out, in / groups, k, k}), bias = torch::randn({out});
  const auto x = torch::randn({1, in, h, w});
  auto want = torch::conv2d(x, weight, bias, 1, k / 2, 1, groups);
  if (post == PostOp::Relu) want = torch::relu(want);
  if (post == PostOp::Sigmoid) want = torch::sigmoid(want);
  const ConvKernel conv(weight, bias, groups, post);
  const auto src = nhwc(x);
  auto dst = torch::empty({h, w, out});
  for (int64_t lo = 0; lo < h; lo += rows) {
    const Span band{lo, std::min(h, lo + rows)};
    const Span input{std::max<int64_t>(0, band.lo - k / 2), std::min(h, band.hi + k / 2)};
    conv.rows(src.data_ptr<float>() + input.lo * w * in, input, band, h, w,
              dst.data_ptr<float>() + band.lo * w * out);
  }
  expect_close(dst.permute({2, 0, 1}).unsqueeze(0), want);
}

TEST(ConvKernel, SpatialInBands) {
  check_bands(12, 24, 3, 1, PostOp::None, 37, 29, 8);
}
TEST(ConvKernel, SpatialOneBandIsTheWholeImage) {
  check_bands(24, 24, 3, 1, PostOp::None, 9, 11, 16);
}
TEST(ConvKernel, SpatialOneRowBands) {
  check_bands(3, 24, 3, 1, PostOp::None, 5, 7, 1);
}
TEST(ConvKernel, GroupedInBands) {
  check_bands(48, 24, 3, 4, PostOp::None, 21, 17, 5);
}
TEST(ConvKernel, SigmoidFused) {
  check_bands(12, 24, 3, 1, PostOp::Sigmoid, 19, 23, 6);
}
TEST(ConvKernel, PointwiseInBandsWithRelu) {
  check_bands(24, 48, 1, 1, PostOp::Relu, 13, 31, 4);
}

TEST(ConvKernel, PixelsAndAccumulate) {
  torch::manual_seed(7);
  const auto weight = torch::randn({12, 48, 1, 1}), bias = torch::randn({12});
  const auto x = torch::randn({1, 48, 1, 301}), base = torch::randn({1, 12, 1, 301});
  const ConvKernel conv(weight, bias);
  const auto src = nhwc(x);
  auto dst = nhwc(base).clone();
  conv.pixels(src.data_ptr<float>(), 301, dst.data_ptr<float>(), /*accumulate=*/true);
  expect_close(dst.permute({0, 3, 1, 2}), torch::conv2d(x, weight, bias) + base);
}

// Runs of a power of two pixels, the last one overlapping its predecessor.
TEST(ConvKernel, PixelsInRunsLongerAndShorterThanTheLongestRun) {
  for (int64_t count : {1, 7, 64, 1000, 4096, 5000, 9001}) {
    SCOPED_TRACE(count);
    torch::manual_seed(count);
    const auto weight = torch::randn({48, 24, 1, 1}), bias = torch::randn({48});
    const auto x = torch::randn({1, 24, 1, count});
    const ConvKernel conv(weight, bias, 1, PostOp::Relu);
    const auto src = nhwc(x);
    auto dst = torch::full({1, 1, count, 48}, -1.0f);
    conv.pixels(src.data_ptr<float>(), count, dst.data_ptr<float>());
    expect_close(dst.permute({0, 3, 1, 2}), torch::relu(torch::conv2d(x, weight, bias)));
  }
}

TEST(ConvKernel, RefusesRowsThatDoNotReachTheOutput) {
  const ConvKernel conv(torch::randn({24, 24, 3, 3}), {});
  std::vector<float> buf(24 * 10 * 10 * 2);
  // Output rows 4..6 need input rows 3..7: 4..6 is missing a halo row that
  // is not the image's border.
  EXPECT_THROW(conv.rows(buf.data(), {4, 6}, {4, 6}, 10, 10, buf.data()), std::logic_error);
  EXPECT_THROW(ConvKernel(torch::randn({24, 24, 3, 3}), {}).pixels(buf.data(), 4, buf.data()),
               std::logic_error);
}

}  // namespace
}  // namespace fdiwn::test
