// The FDIWN module tree (Gao et al., "Feature Distillation Interaction
// Weighting Network for Lightweight Image Super-Resolution", AAAI 2022).
//
// One torch::nn::Module per unit of the paper, named after the paper's term.
// Every submodule and parameter is registered under the name the authors'
// checkpoint uses (given in each unit's comment), so a weights file loads by
// name and `named_parameters()` equals the file's key list.
//
// Tensors are N x C x H x W float32; the network's input is RGB in [0, 255].
#pragma once

#include <cstdint>
#include <functional>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include "fdiwn/export.hpp"

FDIWN_API_BEGIN
namespace fdiwn {

/// The widths of one FDIWN network. They differ per scale, so they are read
/// from a weights file's shapes (see `config_from_weights` in weights.hpp).
struct FdiwnConfig {
  int64_t scale = 2;           ///< upscaling factor: 2, 3 or 4
  int64_t n_feats = 24;        ///< trunk width
  int64_t wirw_expand = 48;    ///< WIRW body: 1x1 n -> wirw_expand
  int64_t wirw_squeeze = 12;   ///< WIRW body: 1x1 wirw_expand -> wirw_squeeze
  int64_t wcrw_expand = 48;    ///< WCRW(12) body: 1x1 12 -> wcrw_expand
  int64_t fusion_expand = 96;  ///< fusion unit SRBW2(48) body: 1x1 48 -> fusion_expand
  int64_t tail_feats = 64;     ///< top-level conv1 / conv2 output width
  /// The x4 network feeds the mean-shifted input to the second tail branch
  /// (`conv2`); x2 and x3 feed it the raw input. Not visible in the shapes.
  bool tail_from_shifted = false;
};

/// `x` viewed as `groups` groups of channels, transposed (ShuffleNet's
/// channel shuffle): output channel j*groups+g is input channel g*C/groups+j.
torch::Tensor channel_shuffle(const torch::Tensor& x, int64_t groups);

/// A learned scalar multiplier. Checkpoint: `<name>.scale`, shape [1].
struct ScaleImpl : torch::nn::Module {
  ScaleImpl();
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor scale;
};
TORCH_MODULE(Scale);

/// Shuffle attention (SA-Net's sa_layer). Checkpoint: `SAlayer`.
/// Six channel groups, each split in halves: a channel gate from the spatial
/// mean and a spatial gate from a per-channel GroupNorm, then a 2-group
/// channel shuffle. Parameters `cweight, cbias, sweight, sbias, gn.*`.
struct ShuffleAttentionImpl : torch::nn::Module {
  explicit ShuffleAttentionImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

  int64_t channels;
  torch::Tensor cweight, cbias, sweight, sbias;
  torch::nn::GroupNorm gn{nullptr};
};
TORCH_MODULE(ShuffleAttention);

/// Interaction weights (paper: the CoffConv gates of the WDIB).
/// Checkpoint: `A1_coffconv` ... `B2_coffconv`, class CoffConv.
/// Mean branch `upper_branch.{1,3}` and contrast (std) branch
/// `lower_branch.{0,2}`; output N x C x 1 x 1 gates in [0.5, 1).
struct CoffConvImpl : torch::nn::Module {
  explicit CoffConvImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Sequential upper_branch{nullptr};  // pool, conv, relu, conv, relu, sigmoid
  torch::nn::Sequential lower_branch{nullptr};  // conv, relu, conv, relu, sigmoid (after std)
};
TORCH_MODULE(CoffConv);

/// Wide Identical Residual Weighting unit (WIRW). Checkpoint class SRBW1:
/// `srb1..srb4` in a WDIB, `rb1` in an FSWG.
/// y = res_scale * SAlayer(body(x)) + x_scale * x.
struct WIRWImpl : torch::nn::Module {
  WIRWImpl(int64_t channels, int64_t expand, int64_t squeeze);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Sequential body{nullptr};  // 1x1 conv, relu, 1x1 conv, 3x3 conv
  Scale res_scale{nullptr}, x_scale{nullptr};
  ShuffleAttention SAlayer{nullptr};
};
TORCH_MODULE(WIRW);

/// Wide Convolutional Residual Weighting unit (WCRW). Checkpoint class SRBW
/// (`rb1`, `rb2` in a WDIB: 12 -> 24 channels) and its SCF fusion variant
/// SRBW2 (`fuse1`: 48 -> 24 channels); both have the same structure:
/// y = res_scale * SAlayer(body(x)) + x_scale * conv(x).
struct WCRWImpl : torch::nn::Module {
  /// body = 1x1 in->expand, relu, 1x1 expand->squeeze, 3x3 squeeze->out.
  WCRWImpl(int64_t in, int64_t expand, int64_t squeeze, int64_t out);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Sequential body{nullptr};
  torch::nn::Conv2d conv{nullptr};  // 3x3 in -> out, with bias
  Scale res_scale{nullptr}, x_scale{nullptr};
  ShuffleAttention SAlayer{nullptr};
};
TORCH_MODULE(WCRW);

/// Wide-residual Distillation Interaction Block (WDIB). Checkpoint class MY,
/// `MY1..MY3` in an FSWG. Distils half the channels at two stages, crosses
/// the branches with CoffConv interaction weights and ends with the
/// Self-Calibration Fusion (SCF: `fuse1`, `fuse2`) and a shuffle attention.
struct WDIBImpl : torch::nn::Module {
  explicit WDIBImpl(const FdiwnConfig& cfg);
  torch::Tensor forward(const torch::Tensor& x);

  WIRW srb1{nullptr}, srb2{nullptr};
  WCRW rb1{nullptr}, rb2{nullptr};
  CoffConv A1_coffconv{nullptr}, B1_coffconv{nullptr}, A2_coffconv{nullptr}, B2_coffconv{nullptr};
  torch::nn::Conv2d conv_distilled1{nullptr}, conv_distilled2{nullptr};
  Scale scale_x1{nullptr}, scale_x2{nullptr};
  WIRW srb3{nullptr}, srb4{nullptr};
  WCRW fuse1{nullptr};
  torch::nn::Conv2d fuse2{nullptr};
  ShuffleAttention SAlayer{nullptr};
};
TORCH_MODULE(WDIB);

/// Feature Shuffle Weighted Group (FSWG). Checkpoint class Li, `Li1..Li3`.
/// Three WDIBs whose outputs are mixed by grouped convolutions after a
/// 4-group channel shuffle, plus a WIRW on the group's input.
struct FSWGImpl : torch::nn::Module {
  explicit FSWGImpl(const FdiwnConfig& cfg);
  torch::Tensor forward(const torch::Tensor& x);

  WDIB MY1{nullptr}, MY2{nullptr}, MY3{nullptr};
  torch::nn::Conv2d conv{nullptr};   // 3x3 24 -> 24, no bias
  torch::nn::Conv2d conv1{nullptr};  // 3x3 48 -> 24, groups 4, no bias
  torch::nn::Conv2d conv2{nullptr};  // 3x3 48 -> 24, groups 4, no bias
  WIRW rb1{nullptr};
  Scale scale_x{nullptr}, scale_res{nullptr};
};
TORCH_MODULE(FSWG);

/// Multiply-adds and output elements per output pixel of the convolutions
/// in a module (each counted once; CoffConv's, which run on pooled 1x1 maps,
/// left out): a unit's cost per pixel of its input.
struct ConvCost {
  int64_t macs = 0, activations = 0;
};
ConvCost conv_cost(torch::nn::Module& module);

/// The whole network. Checkpoint: the top level (class MODEL).
/// Three FSWGs, each applied twice (weights shared), joined by the
/// Wide-Residual Distillation Connections (WRDC: running sums of group
/// outputs), then two upsampling tails (`UP1`, `UP2`) that are added.
struct FDIWNImpl : torch::nn::Module {
  explicit FDIWNImpl(const FdiwnConfig& cfg);
  /// x: N x 3 x H x W RGB in [0, 255]; returns N x 3 x sH x sW, unclamped.
  /// `after_group`, if given, is called after each of the six group
  /// applications: progress, or abandoning the pass by throwing.
  torch::Tensor forward(const torch::Tensor& x, const std::function<void()>& after_group = nullptr);

  /// Multiply-adds per LR pixel of one forward pass: every convolution at
  /// the resolution it runs at, each group counted as often as it is applied
  /// (CoffConv's convolutions run on 1x1 pooled maps and are left out).
  int64_t macs_per_pixel();
  /// Activations per LR pixel of one forward pass, as the NTIRE efficient-SR
  /// challenge counts them: the elements of every convolution's output,
  /// counted as macs_per_pixel() counts the convolutions.
  int64_t activations_per_pixel();

  FdiwnConfig config;
  torch::nn::Conv2d Sub_mean{nullptr}, Add_mean{nullptr};  // 1x1 mean shift
  torch::nn::Conv2d head{nullptr};
  FSWG Li1{nullptr}, Li2{nullptr}, Li3{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Sequential UP1{nullptr}, UP2{nullptr};  // 3x3 conv, pixel shuffle
};
TORCH_MODULE(FDIWN);

}  // namespace fdiwn
FDIWN_API_END
