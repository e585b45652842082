// Multiply-adds and activations (NTIRE: the elements of every convolution's
// output) counted from the module tree: one unit against the numbers worked
// out by hand, and the network as its units times how often each runs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "fdiwn/model.hpp"

namespace fdiwn::test {
namespace {

// A WIRW of the trunk (srb1..srb4, rb1): 24 -> 48 (1x1, ReLU) -> 12 (1x1)
// -> 24 (3x3), then the shuffle attention (no convolution).
TEST(EfficiencyCounts, WirwByHand) {
  WIRW unit(24, 48, 12);
  const ConvCost cost = conv_cost(*unit);
  EXPECT_EQ(cost.macs, 24 * 48 + 48 * 12 + 12 * 24 * 9);  // 1152 + 576 + 2592 = 4320
  EXPECT_EQ(cost.activations, 48 + 12 + 24);              // 84
}

// A WCRW as in the WDIB (rb1, rb2): 12 -> 48 -> 12 -> 24 body and a 3x3
// 12 -> 24 residual convolution.
TEST(EfficiencyCounts, WcrwByHand) {
  WCRW unit(12, 48, 12, 24);
  const ConvCost cost = conv_cost(*unit);
  EXPECT_EQ(cost.macs, 12 * 48 + 48 * 12 + 12 * 24 * 9 + 12 * 24 * 9);  // 6336
  EXPECT_EQ(cost.activations, 48 + 12 + 24 + 24);                       // 108
}

void expect_network_is_its_units(int64_t scale) {
  SCOPED_TRACE("x" + std::to_string(scale));
  FdiwnConfig config;
  config.scale = scale;
  FDIWN net(config);
  ConvCost want;
  const auto add = [&](torch::nn::Module& m, int64_t times) {
    const ConvCost c = conv_cost(m);
    want.macs += c.macs * times;
    want.activations += c.activations * times;
  };
  for (auto* m : {net->Sub_mean.ptr().get(), net->head.ptr().get(), net->conv1.ptr().get(),
                  net->conv2.ptr().get()}) {
    add(*m, 1);
  }
  add(*net->UP1, 1);
  add(*net->UP2, 1);
  add(*net->Add_mean, scale * scale);  // on the HR image
  for (auto* g : {net->Li1.ptr().get(), net->Li2.ptr().get(), net->Li3.ptr().get()}) add(*g, 2);
  EXPECT_EQ(net->macs_per_pixel(), want.macs);
  EXPECT_EQ(net->activations_per_pixel(), want.activations);
  // The trunk's 24 channels at least once per WDIB unit: a sanity floor.
  EXPECT_GT(want.activations, 18 * 6 * 24);
}

TEST(EfficiencyCounts, NetworkX2IsItsUnits) {
  expect_network_is_its_units(2);
}
TEST(EfficiencyCounts, NetworkX4IsItsUnits) {
  expect_network_is_its_units(4);
}

}  // namespace
}  // namespace fdiwn::test
