// The optimised path's oneDNN convolutions against LibTorch's conv2d, on
// shapes chosen to hit the edge cases of splitting pixels into runs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/dnnl_conv.hpp"

namespace fdiwn::test {
namespace {

torch::Tensor nhwc(const torch::Tensor& t) {
  return t.contiguous(torch::MemoryFormat::ChannelsLast);
}

// pointwise_pair(x) == conv(relu(conv(x))) with the same weights.
void check_pair(int64_t n, int64_t in, int64_t wide, int64_t out, int64_t h, int64_t w) {
  SCOPED_TRACE(std::to_string(n) + " x " + std::to_string(in) + "->" + std::to_string(wide) + "->" +
               std::to_string(out) + " x " + std::to_string(h) + "x" + std::to_string(w));
  torch::manual_seed(n * 1000 + h * 10 + w);
  const auto w1 = torch::randn({wide, in, 1, 1}), b1 = torch::randn({wide});
  const auto w2 = torch::randn({out, wide, 1, 1}), b2 = torch::randn({out});
  const auto x = torch::randn({n, in, h, w});
  const DnnlConv first(w1, b1, 1, PostOp::Relu), second(w2, b2);
  const auto got = DnnlConv::pointwise_pair(first, second, nhwc(x));
  const auto want = torch::conv2d(torch::relu(torch::conv2d(x, w1, b1)), w2, b2);
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_TRUE(got.is_contiguous(torch::MemoryFormat::ChannelsLast));
  if (want.numel() == 0) return;
  const double err = (got - want).abs().max().item<double>();
  const double mag = want.abs().max().item<double>();
  EXPECT_LE(err, 1e-4 * std::max(1.0, mag)) << "largest error " << err << " of " << mag;
}

TEST(PointwisePair, NoPixels) {
  check_pair(0, 24, 48, 12, 5, 5);
}
TEST(PointwisePair, OnePixel) {
  check_pair(1, 24, 48, 12, 1, 1);
}
TEST(PointwisePair, FewerPixelsThanThreads) {
  check_pair(1, 12, 48, 12, 1, 3);
}
TEST(PointwisePair, OddSizeOneRun) {
  check_pair(1, 24, 48, 12, 7, 13);
}
TEST(PointwisePair, ManyRunsWithARemainder) {
  check_pair(1, 24, 48, 12, 257, 301);
}
TEST(PointwisePair, WideIntermediate) {
  check_pair(1, 48, 96, 24, 131, 97);
}
TEST(PointwisePair, RunsCrossImageBoundaries) {
  check_pair(3, 24, 48, 12, 113, 89);
}

TEST(PointwisePair, RefusesANonPointwiseConvolution) {
  const DnnlConv first(torch::randn({48, 24, 1, 1}), {}), second(torch::randn({12, 48, 3, 3}), {});
  EXPECT_THROW(DnnlConv::pointwise_pair(first, second, nhwc(torch::randn({1, 24, 8, 8}))),
               std::invalid_argument);
}

TEST(PointwisePair, RefusesMismatchedWidths) {
  const DnnlConv first(torch::randn({48, 24, 1, 1}), {}), second(torch::randn({12, 40, 1, 1}), {});
  EXPECT_THROW(DnnlConv::pointwise_pair(first, second, nhwc(torch::randn({1, 24, 8, 8}))),
               std::invalid_argument);
}

}  // namespace
}  // namespace fdiwn::test
