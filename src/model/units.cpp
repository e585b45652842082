// The small units of FDIWN: Scale, shuffle attention, CoffConv gates, WIRW
// and WCRW. Each forward() follows ../docs of the network op by op.
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/normalization.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/pooling.h>

#include "fdiwn/model.hpp"
#include "model/conv.hpp"

namespace fdiwn {

torch::Tensor channel_shuffle(const torch::Tensor& x, int64_t groups) {
  const auto n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  return x.reshape({n, groups, c / groups, h, w}).transpose(1, 2).reshape({n, c, h, w});
}

// --- Scale ---------------------------------------------------------------

ScaleImpl::ScaleImpl() {
  scale = register_parameter("scale", torch::ones({1}));
}

torch::Tensor ScaleImpl::forward(const torch::Tensor& x) {
  return x * scale;
}

// --- Shuffle attention ---------------------------------------------------

namespace {
// sa_layer's group count: C channels are viewed as 6 groups of C/6, each
// split into a channel-gate half and a spatial-gate half of C/12 channels.
constexpr int64_t kAttentionGroups = 6;
}  // namespace

ShuffleAttentionImpl::ShuffleAttentionImpl(int64_t channels_) : channels(channels_) {
  const int64_t half = channels / (2 * kAttentionGroups);
  cweight = register_parameter("cweight", torch::zeros({1, half, 1, 1}));
  cbias = register_parameter("cbias", torch::ones({1, half, 1, 1}));
  sweight = register_parameter("sweight", torch::zeros({1, half, 1, 1}));
  sbias = register_parameter("sbias", torch::ones({1, half, 1, 1}));
  gn = register_module("gn", torch::nn::GroupNorm(torch::nn::GroupNormOptions(half, half)));
}

torch::Tensor ShuffleAttentionImpl::forward(const torch::Tensor& x) {
  const auto n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  auto groups = x.reshape({n * kAttentionGroups, c / kAttentionGroups, h, w});
  auto halves = groups.chunk(2, 1);
  const auto& x0 = halves[0];
  const auto& x1 = halves[1];
  // Channel gate from each channel's spatial mean.
  auto channel_gate = torch::sigmoid(cweight * x0.mean({2, 3}, true) + cbias);
  // Spatial gate from the channel normalised by its own statistics.
  auto spatial_gate = torch::sigmoid(sweight * gn(x1) + sbias);
  auto out = torch::cat({x0 * channel_gate, x1 * spatial_gate}, 1).reshape({n, c, h, w});
  return fdiwn::channel_shuffle(out, 2);
}

// --- CoffConv ------------------------------------------------------------

CoffConvImpl::CoffConvImpl(int64_t channels) {
  const int64_t reduced = channels / 8;
  // Layer indices match the checkpoint (`upper_branch.1`, `lower_branch.0`);
  // the pooling in front of the upper branch is part of its Sequential.
  upper_branch = register_module(
      "upper_branch",
      torch::nn::Sequential(torch::nn::AdaptiveAvgPool2d(1), conv2d(channels, reduced, 1),
                            torch::nn::ReLU(), conv2d(reduced, channels, 1), torch::nn::ReLU(),
                            torch::nn::Sigmoid()));
  lower_branch = register_module(
      "lower_branch",
      torch::nn::Sequential(conv2d(channels, reduced, 1), torch::nn::ReLU(),
                            conv2d(reduced, channels, 1), torch::nn::ReLU(), torch::nn::Sigmoid()));
}

torch::Tensor CoffConvImpl::forward(const torch::Tensor& x) {
  // Contrast: population standard deviation of each channel.
  auto contrast = x.std({2, 3}, /*unbiased=*/false, /*keepdim=*/true);
  return (upper_branch->forward(x) + lower_branch->forward(contrast)) / 2;
}

// --- WIRW / WCRW ---------------------------------------------------------

namespace {
// The weight-normalised body shared by SRBW1, SRBW and SRBW2. Index 1 is the
// ReLU, so the convolutions sit at the checkpoint's `body.0/2/3`.
torch::nn::Sequential make_body(int64_t in, int64_t expand, int64_t squeeze, int64_t out) {
  return torch::nn::Sequential(conv2d(in, expand, 1), torch::nn::ReLU(), conv2d(expand, squeeze, 1),
                               conv2d(squeeze, out, 3));
}
}  // namespace

WIRWImpl::WIRWImpl(int64_t channels, int64_t expand, int64_t squeeze) {
  res_scale = register_module("res_scale", Scale());
  x_scale = register_module("x_scale", Scale());
  body = register_module("body", make_body(channels, expand, squeeze, channels));
  SAlayer = register_module("SAlayer", ShuffleAttention(channels));
}

torch::Tensor WIRWImpl::forward(const torch::Tensor& x) {
  return res_scale(SAlayer(body->forward(x))) + x_scale(x);
}

WCRWImpl::WCRWImpl(int64_t in, int64_t expand, int64_t squeeze, int64_t out) {
  res_scale = register_module("res_scale", Scale());
  x_scale = register_module("x_scale", Scale());
  conv = register_module("conv", conv2d(in, out, 3));
  body = register_module("body", make_body(in, expand, squeeze, out));
  SAlayer = register_module("SAlayer", ShuffleAttention(out));
}

torch::Tensor WCRWImpl::forward(const torch::Tensor& x) {
  return res_scale(SAlayer(body->forward(x))) + x_scale(conv(x));
}

}  // namespace fdiwn
