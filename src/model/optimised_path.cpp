// The optimised path of every unit: the same module tree and parameters,
// with convolutions on channels-last tensors run by oneDNN (its native
// layout: no reorder before and after every layer; activations fused in, see
// dnnl_conv.hpp) and each elementwise chain fused into one or two passes
// (fused_ops.hpp). The convolutions are made at load time from the
// parameters, with the scalars that multiply a convolution's input or output
// folded into its weights.
#include <torch/nn/functional/pixelshuffle.h>

#include "dnnl_conv.hpp"
#include "fdiwn/model.hpp"
#include "fused_ops.hpp"

namespace fdiwn {

namespace {

using fused::ApplyArgs;
using fused::ChannelStats;
using fused::kC;
using torch::Tensor;

Tensor channels_last(const Tensor& t) {
  return t.contiguous(torch::MemoryFormat::ChannelsLast);
}

using Convs = std::vector<std::shared_ptr<DnnlConv>>;

std::shared_ptr<DnnlConv> make_conv(const Tensor& weight, const Tensor& bias = {},
                                    int64_t groups = 1, PostOp post = PostOp::None) {
  return std::make_shared<DnnlConv>(weight, bias, groups, post);
}

std::shared_ptr<DnnlConv> make_conv(const torch::nn::Conv2dImpl& c, PostOp post = PostOp::None) {
  return make_conv(c.weight, c.bias, c.options.groups(), post);
}

float value(const Scale& s) {
  return *s->scale.data_ptr<float>();
}

const torch::nn::Conv2dImpl& conv_at(const torch::nn::Sequential& seq, size_t i) {
  return *seq->ptr<torch::nn::Conv2dImpl>(i);
}

Tensor like(const Tensor& x, int64_t channels = kC) {
  return fused::empty_nhwc(x.size(0), channels, x.size(2), x.size(3));
}

// A unit's forward_fused on its own: into a new channels-last tensor, with no
// terms of a caller's added (forward_optimised of WIRW, WCRW and WDIB).
template <class Unit>
Tensor run_fused(Unit& unit, const Tensor& x) {
  const Tensor in = channels_last(x);
  Tensor out = like(in);
  ApplyArgs args;
  args.out = &out;
  unit.forward_fused(in, args);
  return out;
}

// The WIRW/WCRW body: 1x1 with its ReLU, 1x1, 3x3.
Tensor body(const Convs& c, const Tensor& x) {
  return (*c[2])(DnnlConv::pointwise_pair(*c[0], *c[1], x));
}

// The body's convolutions, `input_scales` folded into the first.
Convs prepare_body(const torch::nn::Sequential& seq, const Tensor& input_scales) {
  Tensor first = conv_at(seq, 0).weight;
  if (input_scales.defined()) first = first * input_scales.view({1, -1, 1, 1});
  return {make_conv(first, conv_at(seq, 0).bias, 1, PostOp::Relu), make_conv(conv_at(seq, 2)),
          make_conv(conv_at(seq, 3))};
}

// Channel c of the first / second concatenated source lands here after the
// FSWG's 4-group channel shuffle of a 48-channel concatenation.
std::array<int, kC> shuffle4_position(int source) {
  std::array<int, kC> to{};
  for (int c = 0; c < kC; ++c) to[c] = (c % 12) * 4 + 2 * source + c / 12;
  return to;
}

float sigmoid(float v) {
  return 1.0f / (1.0f + std::exp(-v));
}

}  // namespace

// --- Shuffle attention and CoffConv: gates from statistics -------------------

std::vector<fused::Gates> ShuffleAttentionImpl::gates(
    const std::vector<ChannelStats>& stats) const {
  TORCH_CHECK(channels == kC, "the optimised path needs 24 channels");
  // Two values each (one per channel of a half group), contiguous.
  const float* cw = cweight.data_ptr<float>();
  const float* cb = cbias.data_ptr<float>();
  const float* sw = sweight.data_ptr<float>();
  const float* sb = sbias.data_ptr<float>();
  const float* gw = gn->weight.data_ptr<float>();
  const float* gb = gn->bias.data_ptr<float>();
  const double eps = gn->options.eps();
  std::vector<fused::Gates> out(stats.size());
  for (size_t n = 0; n < stats.size(); ++n) {
    for (int c = 0; c < kC; ++c) {
      // Groups of 4 channels: the first 2 get a channel gate, the last 2 a
      // spatial gate (GroupNorm of each channel by itself, then affine).
      const int k = c % 2;
      const double mean = stats[n].mean[c];
      if (c % 4 < 2) {
        out[n].a[c] = 0.0f;
        out[n].b[c] = static_cast<float>(cw[k] * mean + cb[k]);
      } else {
        const double inv = 1.0 / std::sqrt(stats[n].var[c] + eps);
        out[n].a[c] = static_cast<float>(sw[k] * gw[k] * inv);
        out[n].b[c] = static_cast<float>(sw[k] * (gb[k] - gw[k] * mean * inv) + sb[k]);
      }
    }
  }
  return out;
}

std::vector<std::array<float, kC>> CoffConvImpl::gates(
    const std::vector<ChannelStats>& stats) const {
  // conv(relu(conv(v))) on a 24-vector, then relu and sigmoid.
  const auto branch = [](const torch::nn::Sequential& seq, size_t first,
                         const std::array<double, 2 * kC>& v, std::array<double, kC>& out) {
    const auto w1 = conv_at(seq, first).weight.accessor<float, 4>();
    const auto b1 = conv_at(seq, first).bias.accessor<float, 1>();
    const auto w2 = conv_at(seq, first + 2).weight.accessor<float, 4>();
    const auto b2 = conv_at(seq, first + 2).bias.accessor<float, 1>();
    const int64_t reduced = w1.size(0);
    std::vector<double> hidden(reduced);
    for (int64_t r = 0; r < reduced; ++r) {
      double h = b1[r];
      for (int c = 0; c < kC; ++c) h += w1[r][c][0][0] * v[c];
      hidden[r] = std::max(0.0, h);
    }
    for (int c = 0; c < kC; ++c) {
      double o = b2[c];
      for (int64_t r = 0; r < reduced; ++r) o += w2[c][r][0][0] * hidden[r];
      out[c] = sigmoid(static_cast<float>(std::max(0.0, o)));
    }
  };
  std::vector<std::array<float, kC>> out(stats.size());
  for (size_t n = 0; n < stats.size(); ++n) {
    std::array<double, 2 * kC> stddev{};
    for (int c = 0; c < kC; ++c) stddev[c] = std::sqrt(stats[n].var[c]);
    std::array<double, kC> upper{}, lower{};
    branch(upper_branch, 1, stats[n].mean, upper);
    branch(lower_branch, 0, stddev, lower);
    for (int c = 0; c < kC; ++c) out[n][c] = static_cast<float>((upper[c] + lower[c]) / 2);
  }
  return out;
}

// --- WIRW, WCRW ---------------------------------------------------------------

void WIRWImpl::prepare_optimised() {
  fast_convs = prepare_body(body, {});
}

void WIRWImpl::forward_fused(const Tensor& x, ApplyArgs& args, float outer, float add_input) {
  const Tensor b = fdiwn::body(fast_convs, x);
  args.body = &b;
  args.gates = SAlayer->gates(fused::channel_stats(b));
  args.body_scale = outer * value(res_scale);
  args.terms.insert(args.terms.begin(), {&x, outer * value(x_scale) + add_input});
  fused::attention_apply(args);
}

Tensor WIRWImpl::forward_optimised(const Tensor& x) {
  return run_fused(*this, x);
}

void WCRWImpl::prepare_optimised(const std::vector<float>& input_scales) {
  const Tensor scales = input_scales.empty() ? Tensor() : torch::tensor(input_scales);
  fast_convs = prepare_body(body, scales);
  // x_scale * conv(x): folded into the convolution.
  const float xs = value(x_scale);
  Tensor w = conv->weight * xs;
  if (scales.defined()) w = w * scales.view({1, -1, 1, 1});
  fast_convs.push_back(make_conv(w, conv->bias * xs));
}

void WCRWImpl::forward_fused(const Tensor& x, ApplyArgs& args) {
  const Tensor b = fdiwn::body(fast_convs, x);
  const Tensor residual = (*fast_convs[3])(x);
  args.body = &b;
  args.gates = SAlayer->gates(fused::channel_stats(b));
  args.body_scale = value(res_scale);
  args.terms.insert(args.terms.begin(), {&residual, 1.0f});
  fused::attention_apply(args);
}

Tensor WCRWImpl::forward_optimised(const Tensor& x) {
  return run_fused(*this, x);
}

// --- WDIB ---------------------------------------------------------------------

void WDIBImpl::prepare_optimised() {
  for (auto* unit : {&srb1, &srb2, &srb3, &srb4}) (*unit)->prepare_optimised();
  rb1->prepare_optimised();
  rb2->prepare_optimised();
  // c = cat(scale_x1 * pa, scale_x2 * pb) is kept unscaled; its readers
  // (fuse1's first layers, fuse2) scale their inputs instead.
  std::vector<float> scales(2 * kC, value(scale_x1));
  std::fill(scales.begin() + kC, scales.end(), value(scale_x2));
  fuse1->prepare_optimised(scales);
  fast_convs = {
      make_conv(*conv_distilled1, PostOp::Sigmoid), make_conv(*conv_distilled2, PostOp::Sigmoid),
      make_conv(fuse2->weight * torch::tensor(scales).view({1, -1, 1, 1}), {}, 1, PostOp::Sigmoid)};
}

void WDIBImpl::forward_fused(const Tensor& x, ApplyArgs& final_args) {
  // Feature maps are released (reset) as soon as their last reader is done:
  // at 1920x1080 each is 200 MB.
  const auto x_stats = fused::channel_stats(x);
  // First distillation: a = lrelu(srb1(x)) written as its two halves.
  Tensor da = like(x, kC / 2), ra = like(x, kC / 2);
  {
    ApplyArgs a;
    a.negative_slope = 0.05f;
    a.out_low = &da;
    a.out_high = &ra;
    srb1->forward_fused(x, a);
  }
  Tensor oa = like(x);
  std::vector<ChannelStats> oa_stats;
  {
    ApplyArgs a;
    a.out = &oa;
    a.out_stats = &oa_stats;
    rb1->forward_fused(ra, a);
    ra.reset();
  }
  Tensor ob1 = like(x), oa1 = like(x);
  std::vector<ChannelStats> oa1_stats;
  fused::interact_first(oa, x, A1_coffconv->gates(oa_stats), B1_coffconv->gates(x_stats), ob1, oa1,
                        oa1_stats);
  oa.reset();
  // Second distillation.
  Tensor db = like(x, kC / 2), rb = like(x, kC / 2);
  {
    ApplyArgs a;
    a.negative_slope = 0.05f;
    a.out_low = &db;
    a.out_high = &rb;
    srb2->forward_fused(ob1, a);
    ob1.reset();
  }
  Tensor ob = like(x);
  std::vector<ChannelStats> ob_stats;
  {
    ApplyArgs a;
    a.out = &ob;
    a.out_stats = &ob_stats;
    rb2->forward_fused(rb, a);
    rb.reset();
  }
  Tensor ob2 = like(x), oa2 = like(x);
  {
    const Tensor s1 = (*fast_convs[0])(db), s2 = (*fast_convs[1])(da);  // sigmoid included
    db.reset();
    da.reset();
    fused::interact_second(oa1, ob, s1, s2, A2_coffconv->gates(oa1_stats),
                           B2_coffconv->gates(ob_stats), ob2, oa2);
    oa1.reset();
    ob.reset();
  }
  // Self-Calibration Fusion on c = [pa, pb], written in place.
  Tensor c = like(x, 2 * kC);
  Tensor pa = c.narrow(1, 0, kC), pb = c.narrow(1, kC, kC);
  {
    ApplyArgs a;
    a.out = &pa;
    srb3->forward_fused(oa2, a);
    oa2.reset();
  }
  {
    ApplyArgs a;
    a.out = &pb;
    srb4->forward_fused(ob2, a);
    ob2.reset();
  }
  Tensor t = like(x);
  std::vector<ChannelStats> t_stats;
  {
    const Tensor f2 = (*fast_convs[2])(c);  // sigmoid(fuse2(c))
    ApplyArgs a;
    a.out = &t;
    a.out_stats = &t_stats;
    a.terms = {{&pb, 1.0f, &f2}, {&x, 1.0f}};  // + sigmoid(fuse2(c)) * pb + x
    fuse1->forward_fused(c, a);
  }
  pa.reset();
  pb.reset();
  c.reset();
  final_args.body = &t;
  final_args.gates = SAlayer->gates(t_stats);
  final_args.body_scale = 1.0f;
  fused::attention_apply(final_args);
}

Tensor WDIBImpl::forward_optimised(const Tensor& x) {
  return run_fused(*this, x);
}

// --- FSWG ---------------------------------------------------------------------

void FSWGImpl::prepare_optimised() {
  for (auto* block : {&MY1, &MY2, &MY3}) (*block)->prepare_optimised();
  rb1->prepare_optimised();
  fast_convs = {make_conv(*conv), make_conv(*conv1), make_conv(*conv2)};
}

Tensor FSWGImpl::forward_optimised(const Tensor& x_in, bool add_input) {
  const Tensor x = channels_last(x_in);
  // The grouped convolutions read 4-group shuffles of 48-channel
  // concatenations; the blocks write their outputs straight to the shuffled
  // places.
  Tensor first = like(x, 2 * kC), second = like(x, 2 * kC);
  Tensor o1 = like(x), o3 = like(x);
  {
    ApplyArgs a;
    a.out = &o1;
    a.scatter = &first;
    a.scatter_to = shuffle4_position(0);
    MY1->forward_fused(x, a);
  }
  Tensor in3 = like(x);  // o11 + conv(o1)
  {
    ApplyArgs a;
    a.out = &in3;
    a.scatter = &first;
    a.scatter_to = shuffle4_position(1);
    MY2->forward_fused(o1, a);
    fast_convs[0]->accumulate(o1, in3);
    o1.reset();
  }
  {
    ApplyArgs a;
    a.out = &o3;
    a.scatter = &second;
    a.scatter_to = shuffle4_position(1);
    MY3->forward_fused(in3, a);
    in3.reset();
  }
  fused::scatter_channels((*fast_convs[1])(first), second, shuffle4_position(0));
  first.reset();
  const Tensor c2 = (*fast_convs[2])(second);
  second.reset();
  // scale_x * (c2 + o3) + scale_res * rb1(x) [+ x]
  const float sx = value(scale_x);
  Tensor y = like(x);
  ApplyArgs a;
  a.out = &y;
  a.terms = {{&c2, sx}, {&o3, sx}};
  rb1->forward_fused(x, a, value(scale_res), add_input ? 1.0f : 0.0f);
  return y;
}

// --- FDIWN --------------------------------------------------------------------

void FDIWNImpl::prepare_optimised() {
  torch::NoGradGuard no_grad;
  for (auto* group : {&Li1, &Li2, &Li3}) (*group)->prepare_optimised();
  fast_convs = {make_conv(*Sub_mean),
                make_conv(*head),
                make_conv(*conv1),
                make_conv(*conv2),
                make_conv(*UP1->ptr<torch::nn::Conv2dImpl>(0)),
                make_conv(*UP2->ptr<torch::nn::Conv2dImpl>(0)),
                make_conv(*Add_mean)};
}

Tensor FDIWNImpl::forward_optimised(const Tensor& x_in) {
  TORCH_CHECK(!fast_convs.empty(), "prepare_optimised() was not called");
  const auto& c = fast_convs;
  const Tensor x = channels_last(x_in);
  const Tensor shifted = (*c[0])(x);
  // d_k = d_{k-1} + group(d_{k-1}): the WRDC sums, added by each group.
  Tensor d = Li1->forward_optimised((*c[1])(shifted), false);
  if (group_done) group_done();
  for (FSWG* g : {&Li1, &Li2, &Li3, &Li2, &Li3}) {
    d = (*g)->forward_optimised(d, true);
    if (group_done) group_done();
  }
  const Tensor& skip = config.tail_from_shifted ? shifted : x;
  // Both tails end in a pixel shuffle, which is linear: add before it.
  Tensor up = (*c[4])((*c[2])(d));
  c[5]->accumulate((*c[3])(skip), up);
  return (*c[6])(channels_last(torch::pixel_shuffle(up, config.scale)));
}

}  // namespace fdiwn
