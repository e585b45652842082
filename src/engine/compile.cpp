// From the module tree to the engine's kernels: which parameter goes where,
// and which scalars are folded into which weights. Done once per Upscaler.
#include <cmath>

#include <torch/nn/modules/conv.h>

#include "engine/kernels.hpp"
#include "fdiwn/model.hpp"

namespace fdiwn::engine {

namespace {

using torch::Tensor;

float value(const Scale& s) {
  return s->scale.item<float>();
}

const torch::nn::Conv2dImpl& conv_at(const torch::nn::Sequential& seq, size_t i) {
  return *seq->ptr<torch::nn::Conv2dImpl>(i);
}

ConvKernel kernel(const torch::nn::Conv2dImpl& c, PostOp post = PostOp::None) {
  return ConvKernel(c.weight, c.bias, c.options.groups(), post);
}

// `scales` (one per input channel, undefined: none) folded into the weight.
Tensor scaled_input(const Tensor& weight, const Tensor& scales) {
  return scales.defined() ? weight * scales.view({1, -1, 1, 1}) : weight;
}

void copy2(const Tensor& t, float* out) {
  const Tensor c = t.reshape({-1}).contiguous();
  TORCH_CHECK(c.numel() == 2, "shuffle attention: expected 24 channels (2 per half group)");
  out[0] = c[0].item<float>();
  out[1] = c[1].item<float>();
}

AttentionGate attention(const ShuffleAttentionImpl& sa) {
  TORCH_CHECK(sa.channels == kC, "the engine needs 24-channel shuffle attention");
  AttentionGate g;
  copy2(sa.cweight, g.cweight);
  copy2(sa.cbias, g.cbias);
  copy2(sa.sweight, g.sweight);
  copy2(sa.sbias, g.sbias);
  copy2(sa.gn->weight, g.gn_weight);
  copy2(sa.gn->bias, g.gn_bias);
  g.eps = sa.gn->options.eps();
  return g;
}

std::vector<float> values(const Tensor& t) {
  const Tensor c = t.reshape({-1}).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

InteractionGate::Branch branch(const torch::nn::Sequential& seq, size_t first) {
  InteractionGate::Branch b;
  const auto& c1 = conv_at(seq, first);
  const auto& c2 = conv_at(seq, first + 2);
  b.reduced = static_cast<int>(c1.weight.size(0));
  TORCH_CHECK(c1.weight.size(1) == kC && c2.weight.size(0) == kC,
              "the engine needs 24-channel interaction weights");
  b.w1 = values(c1.weight);
  b.b1 = values(c1.bias);
  b.w2 = values(c2.weight);
  b.b2 = values(c2.bias);
  return b;
}

InteractionGate interaction(const CoffConvImpl& cc) {
  return {branch(cc.upper_branch, 1), branch(cc.lower_branch, 0)};
}

// WIRW/WCRW bodies: 1x1 with its ReLU, 1x1, 3x3; `scales` on the input.
BodyKernels body(const torch::nn::Sequential& seq, const Tensor& scales) {
  const auto& first = conv_at(seq, 0);
  const auto& second = conv_at(seq, 2);
  const Tensor w1 = scaled_input(first.weight, scales).to(torch::kFloat32).contiguous();
  BodyKernels b;
  b.expand_relu = ConvKernel(w1, first.bias, 1, PostOp::Relu);
  b.squeeze = kernel(second);
  b.spatial = kernel(conv_at(seq, 3));
  // The two 1x1 kernels as one where the CPU and the shape allow; the
  // ConvKernels stay as the fallback and say the body's channel counts.
  const int64_t in = w1.size(1), wide = w1.size(0), out = second.weight.size(0);
  if (PointwisePair::available() && PointwisePair::suits(in, wide, out) &&
      second.weight.size(1) == wide) {
    const auto floats = [](const Tensor& t) {
      return t.defined() ? t.to(torch::kFloat32).contiguous() : Tensor();
    };
    const Tensor b1 = floats(first.bias), w2 = floats(second.weight), b2 = floats(second.bias);
    b.pair = std::make_unique<PointwisePair>(
        w1.data_ptr<float>(), b1.defined() ? b1.data_ptr<float>() : nullptr, w2.data_ptr<float>(),
        b2.defined() ? b2.data_ptr<float>() : nullptr, in, wide, out);
  }
  return b;
}

WirwKernels wirw(const WIRWImpl& u) {
  WirwKernels k;
  k.body = body(u.body, {});
  k.attention = attention(*u.SAlayer);
  k.res_scale = value(u.res_scale);
  k.x_scale = value(u.x_scale);
  return k;
}

WcrwKernels wcrw(const WCRWImpl& u, const Tensor& scales = {}) {
  WcrwKernels k;
  k.body = body(u.body, scales);
  const float xs = value(u.x_scale);
  k.residual = ConvKernel(scaled_input(u.conv->weight, scales) * xs, u.conv->bias * xs);
  k.attention = attention(*u.SAlayer);
  k.res_scale = value(u.res_scale);
  return k;
}

WdibKernels wdib(const WDIBImpl& b) {
  WdibKernels k;
  k.srb1 = wirw(*b.srb1);
  k.srb2 = wirw(*b.srb2);
  k.srb3 = wirw(*b.srb3);
  k.srb4 = wirw(*b.srb4);
  k.rb1 = wcrw(*b.rb1);
  k.rb2 = wcrw(*b.rb2);
  // c = cat(scale_x1 * pa, scale_x2 * pb) is kept unscaled.
  Tensor scales = torch::full({2 * kC}, value(b.scale_x1));
  scales.narrow(0, kC, kC).fill_(value(b.scale_x2));
  k.fuse1 = wcrw(*b.fuse1, scales);
  k.a1 = interaction(*b.A1_coffconv);
  k.b1 = interaction(*b.B1_coffconv);
  k.a2 = interaction(*b.A2_coffconv);
  k.b2 = interaction(*b.B2_coffconv);
  k.distilled1_sigmoid = kernel(*b.conv_distilled1, PostOp::Sigmoid);
  k.distilled2_sigmoid = kernel(*b.conv_distilled2, PostOp::Sigmoid);
  k.fuse2_sigmoid = ConvKernel(scaled_input(b.fuse2->weight, scales), {}, 1, PostOp::Sigmoid);
  k.attention = attention(*b.SAlayer);
  return k;
}

FswgKernels fswg(const FSWGImpl& g) {
  FswgKernels k;
  k.my1 = wdib(*g.MY1);
  k.my2 = wdib(*g.MY2);
  k.my3 = wdib(*g.MY3);
  k.conv = kernel(*g.conv);
  k.conv1 = kernel(*g.conv1);
  k.scale_x = value(g.scale_x);
  k.scale_res = value(g.scale_res);
  k.conv2 = ConvKernel(g.conv2->weight * k.scale_x, {}, g.conv2->options.groups());
  k.rb1 = wirw(*g.rb1);
  return k;
}

void affine(const torch::nn::Conv2dImpl& c, float (&m)[3][4]) {
  const auto w = c.weight.accessor<float, 4>();
  const auto b = c.bias.accessor<float, 1>();
  for (int o = 0; o < 3; ++o) {
    for (int i = 0; i < 3; ++i) m[o][i] = w[o][i][0][0];
    m[o][3] = b[o];
  }
}

}  // namespace

Gates AttentionGate::gates(const Stats& s) const {
  Gates g;
  for (int c = 0; c < kC; ++c) {
    // Groups of 4 channels: the first 2 get a channel gate, the last 2 a
    // spatial gate (GroupNorm of each channel by itself, then affine).
    const int k = c % 2;
    const double mean = s.mean[c];
    if (c % 4 < 2) {
      g.a[c] = 0.0f;
      g.b[c] = static_cast<float>(cweight[k] * mean + cbias[k]);
    } else {
      const double inv = 1.0 / std::sqrt(s.var[c] + eps);
      g.a[c] = static_cast<float>(sweight[k] * gn_weight[k] * inv);
      g.b[c] = static_cast<float>(sweight[k] * (gn_bias[k] - gn_weight[k] * mean * inv) + sbias[k]);
    }
  }
  return g;
}

Weights InteractionGate::weights(const Stats& s) const {
  // conv(relu(conv(v))) on a 24-vector, then relu and sigmoid.
  const auto run = [](const Branch& b, const double* v, double* out) {
    std::vector<double> hidden(b.reduced);
    for (int r = 0; r < b.reduced; ++r) {
      double h = b.b1[r];
      for (int c = 0; c < kC; ++c) h += b.w1[r * kC + c] * v[c];
      hidden[r] = std::max(0.0, h);
    }
    for (int c = 0; c < kC; ++c) {
      double o = b.b2[c];
      for (int r = 0; r < b.reduced; ++r) o += b.w2[c * b.reduced + r] * hidden[r];
      out[c] = 1.0f / (1.0f + std::exp(-static_cast<float>(std::max(0.0, o))));
    }
  };
  double stddev[kC], upper[kC], lower[kC];
  for (int c = 0; c < kC; ++c) stddev[c] = std::sqrt(s.var[c]);
  run(mean_branch, s.mean.data(), upper);
  run(contrast_branch, stddev, lower);
  Weights w;
  for (int c = 0; c < kC; ++c) w[c] = static_cast<float>((upper[c] + lower[c]) / 2);
  return w;
}

NetworkKernels compile(const FDIWNImpl& m) {
  torch::NoGradGuard no_grad;
  NetworkKernels k;
  k.scale = static_cast<int>(m.config.scale);
  k.tail_from_shifted = m.config.tail_from_shifted;
  TORCH_CHECK(m.config.n_feats == kC, "the engine needs FDIWN's 24-channel trunk");
  affine(*m.Sub_mean, k.sub_mean);
  affine(*m.Add_mean, k.add_mean);
  k.head = kernel(*m.head);
  k.li1 = fswg(*m.Li1);
  k.li2 = fswg(*m.Li2);
  k.li3 = fswg(*m.Li3);
  k.conv1 = kernel(*m.conv1);
  k.up1 = kernel(conv_at(m.UP1, 0));
  k.conv2 = kernel(*m.conv2);
  k.up2 = kernel(conv_at(m.UP2, 0));
  return k;
}

}  // namespace fdiwn::engine
