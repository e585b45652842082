// The blocks of FDIWN: WDIB, FSWG and the top level with its WRDC sums.
#include <string>

#include <torch/nn/functional/activation.h>
#include <torch/nn/modules/pixelshuffle.h>

#include "fdiwn/model.hpp"
#include "model/conv.hpp"

namespace fdiwn {

namespace {
torch::Tensor lrelu(const torch::Tensor& x) {
  return torch::leaky_relu(x, 0.05);
}
}  // namespace

// --- WDIB ----------------------------------------------------------------

WDIBImpl::WDIBImpl(const FdiwnConfig& cfg) {
  const int64_t n = cfg.n_feats, half = n / 2;
  srb1 = register_module("srb1", WIRW(n, cfg.wirw_expand, cfg.wirw_squeeze));
  srb2 = register_module("srb2", WIRW(n, cfg.wirw_expand, cfg.wirw_squeeze));
  rb1 = register_module("rb1", WCRW(half, cfg.wcrw_expand, half, n));
  rb2 = register_module("rb2", WCRW(half, cfg.wcrw_expand, half, n));
  A1_coffconv = register_module("A1_coffconv", CoffConv(n));
  B1_coffconv = register_module("B1_coffconv", CoffConv(n));
  A2_coffconv = register_module("A2_coffconv", CoffConv(n));
  B2_coffconv = register_module("B2_coffconv", CoffConv(n));
  conv_distilled1 = register_module("conv_distilled1", conv2d(half, n, 3, /*bias=*/false));
  conv_distilled2 = register_module("conv_distilled2", conv2d(half, n, 3, /*bias=*/false));
  scale_x1 = register_module("scale_x1", Scale());
  scale_x2 = register_module("scale_x2", Scale());
  srb3 = register_module("srb3", WIRW(n, cfg.wirw_expand, cfg.wirw_squeeze));
  srb4 = register_module("srb4", WIRW(n, cfg.wirw_expand, cfg.wirw_squeeze));
  fuse1 = register_module("fuse1", WCRW(2 * n, cfg.fusion_expand, n, n));
  fuse2 = register_module("fuse2", conv2d(2 * n, n, 1, /*bias=*/false));
  SAlayer = register_module("SAlayer", ShuffleAttention(n));
}

torch::Tensor WDIBImpl::forward(const torch::Tensor& x) {
  const int64_t half = x.size(1) / 2;
  // First distillation: half the channels (da) are kept aside, the other
  // half (ra) is refined.
  auto a = lrelu(srb1(x));
  auto da = a.narrow(1, 0, half), ra = a.narrow(1, half, half);
  auto oa = rb1(ra);
  // Interaction: each branch is re-weighted by gates computed on the other.
  auto ob1 = A1_coffconv(oa) * oa + x;
  auto oa1 = B1_coffconv(x) * x + oa;
  // Second distillation on the cross branch.
  auto b = lrelu(srb2(ob1));
  auto db = b.narrow(1, 0, half), rb = b.narrow(1, half, half);
  auto ob = rb2(rb);
  auto ob2 = (A2_coffconv(oa1) * oa1 + ob) * torch::sigmoid(conv_distilled1(db));
  auto oa2 = (B2_coffconv(ob) * ob + oa1) * torch::sigmoid(conv_distilled2(da));
  auto pa = srb3(oa2), pb = srb4(ob2);
  // Self-Calibration Fusion.
  auto c = torch::cat({scale_x1(pa), scale_x2(pb)}, 1);
  return SAlayer(fuse1(c) + torch::sigmoid(fuse2(c)) * pb + x);
}

// --- FSWG ----------------------------------------------------------------

FSWGImpl::FSWGImpl(const FdiwnConfig& cfg) {
  const int64_t n = cfg.n_feats;
  MY1 = register_module("MY1", WDIB(cfg));
  MY2 = register_module("MY2", WDIB(cfg));
  MY3 = register_module("MY3", WDIB(cfg));
  conv = register_module("conv", conv2d(n, n, 3, /*bias=*/false));
  conv1 = register_module("conv1", conv2d(2 * n, n, 3, /*bias=*/false, /*groups=*/4));
  conv2 = register_module("conv2", conv2d(2 * n, n, 3, /*bias=*/false, /*groups=*/4));
  rb1 = register_module("rb1", WIRW(n, cfg.wirw_expand, cfg.wirw_squeeze));
  scale_x = register_module("scale_x", Scale());
  scale_res = register_module("scale_res", Scale());
}

torch::Tensor FSWGImpl::forward(const torch::Tensor& x) {
  auto o1 = MY1(x);
  auto o11 = MY2(o1);
  auto o3 = MY3(o11 + conv(o1));
  // The shuffle interleaves the two sources so that each of the 4 groups of
  // the grouped convolution sees channels of both.
  auto c1 = conv1(fdiwn::channel_shuffle(torch::cat({o1, o11}, 1), 4));
  auto c2 = conv2(fdiwn::channel_shuffle(torch::cat({c1, o3}, 1), 4));
  return scale_x(c2 + o3) + scale_res(rb1(x));
}

// --- FDIWN ---------------------------------------------------------------

namespace {
torch::nn::Sequential make_upsampler(int64_t in, int64_t scale) {
  return torch::nn::Sequential(conv2d(in, 3 * scale * scale, 3),
                               torch::nn::PixelShuffle(torch::nn::PixelShuffleOptions(scale)));
}
}  // namespace

FDIWNImpl::FDIWNImpl(const FdiwnConfig& cfg) : config(cfg) {
  const int64_t n = cfg.n_feats;
  Sub_mean = register_module("Sub_mean", conv2d(3, 3, 1));
  Add_mean = register_module("Add_mean", conv2d(3, 3, 1));
  head = register_module("head", conv2d(3, n, 3));
  Li1 = register_module("Li1", FSWG(cfg));
  Li2 = register_module("Li2", FSWG(cfg));
  Li3 = register_module("Li3", FSWG(cfg));
  conv1 = register_module("conv1", conv2d(n, cfg.tail_feats, 3, /*bias=*/false));
  UP1 = register_module("UP1", make_upsampler(cfg.tail_feats, cfg.scale));
  conv2 = register_module("conv2", conv2d(3, cfg.tail_feats, 3));
  UP2 = register_module("UP2", make_upsampler(cfg.tail_feats, cfg.scale));
}

torch::Tensor FDIWNImpl::forward(const torch::Tensor& x, const std::function<void()>& after_group) {
  const auto group = [&](FSWG& g, const torch::Tensor& in) {
    auto out = g(in);
    if (after_group) after_group();
    return out;
  };
  auto shifted = Sub_mean(x);
  auto t0 = group(Li1, head(shifted));
  // Six group applications with shared weights (Li1, Li1, Li2, Li3, Li2,
  // Li3); each takes the running sum of everything before it (WRDC).
  auto u1 = group(Li1, t0);
  auto d1 = t0 + u1;
  auto u2 = group(Li2, d1);
  auto d2 = d1 + u2;
  auto u3 = group(Li3, d2);
  auto d3 = d2 + u3;
  auto u4 = group(Li2, d3);
  auto d4 = d3 + u4;
  auto u5 = group(Li3, d4);
  auto features = t0 + u1 + u2 + u3 + u4 + u5;
  const auto& skip = config.tail_from_shifted ? shifted : x;
  return Add_mean(UP1->forward(conv1(features)) + UP2->forward(conv2(skip)));
}

namespace {

// out * in/groups * k * k multiply-adds and `out` values per output pixel,
// times how often the convolution runs.
ConvCost one_conv(const torch::nn::Conv2dImpl& conv, int64_t times) {
  return {conv.weight.numel() * times, conv.options.out_channels() * times};
}

// The convolutions of `module` (CoffConv's, on pooled 1x1 maps, left out),
// each weighted by times(its module path).
template <class Times>
ConvCost sum_convs(torch::nn::Module& module, Times&& times) {
  ConvCost total;
  for (const auto& item : module.named_modules("", /*include_self=*/true)) {
    const auto conv = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(item.value());
    if (!conv || item.key().find("coffconv") != std::string::npos) continue;
    const ConvCost c = one_conv(*conv, times(item.key()));
    total.macs += c.macs;
    total.activations += c.activations;
  }
  return total;
}

// How often a convolution of the network runs per LR pixel of a pass: twice
// in a group (each is applied twice), scale^2 for Add_mean (on the HR image).
ConvCost network_cost(FDIWNImpl& net) {
  const int64_t scale = net.config.scale;
  return sum_convs(net, [scale](const std::string& key) -> int64_t {
    if (key.rfind("Li", 0) == 0) return 2;
    if (key == "Add_mean") return scale * scale;
    return 1;
  });
}

}  // namespace

ConvCost conv_cost(torch::nn::Module& module) {
  return sum_convs(module, [](const std::string&) { return int64_t{1}; });
}

int64_t FDIWNImpl::macs_per_pixel() {
  return network_cost(*this).macs;
}

int64_t FDIWNImpl::activations_per_pixel() {
  return network_cost(*this).activations;
}

}  // namespace fdiwn
