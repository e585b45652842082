// The engine's kernels, compiled once from a loaded FDIWN module tree
// (compile.cpp): each paper unit's convolutions as ConvKernels (oneDNN or
// Winograd), and each WIRW/WCRW body's 1x1 pair also fused where it can be,
// named after their role, with the learned scalars that multiply a
// convolution's input or output folded into its weights, and the attention
// and interaction gates as plain coefficients.
#pragma once

#include <memory>
#include <vector>

#include "engine/bands.hpp"
#include "engine/conv_kernel.hpp"
#include "engine/pixel_ops.hpp"
#include "engine/pointwise_pair.hpp"

namespace fdiwn {
struct FDIWNImpl;
}

namespace fdiwn::engine {

/// Shuffle attention (`SAlayer`): gates from the statistics of its input.
struct AttentionGate {
  float cweight[2], cbias[2], sweight[2], sbias[2], gn_weight[2], gn_bias[2];
  double eps = 1e-5;
  Gates gates(const Stats& s) const;
};

/// Interaction weights (CoffConv): from the mean and standard deviation of
/// its input, through two small 1x1 chains.
struct InteractionGate {
  struct Branch {
    int reduced = 0;
    std::vector<float> w1, b1, w2, b2;  // reduced x 24, reduced, 24 x reduced, 24
  };
  Branch mean_branch, contrast_branch;
  Weights weights(const Stats& s) const;
};

/// A WIRW/WCRW body: spatial(squeeze(expand_relu(x))).
struct BodyKernels {
  ConvKernel expand_relu;  ///< 1x1 in -> wide, ReLU fused
  ConvKernel squeeze;      ///< 1x1 wide -> narrow
  ConvKernel spatial;      ///< 3x3 narrow -> out
  /// The two 1x1 kernels as one, where the CPU and the shape allow
  /// (pointwise_pair.hpp); null: they run one after the other.
  std::unique_ptr<PointwisePair> pair;
};

/// WIRW (SRBW1): y = res_scale * SA(body(x)) + x_scale * x.
struct WirwKernels {
  BodyKernels body;
  AttentionGate attention;
  float res_scale = 1, x_scale = 1;
};

/// WCRW (SRBW) and the fusion unit (SRBW2): y = res_scale * SA(body(x)) +
/// residual(x), x_scale folded into `residual`.
struct WcrwKernels {
  BodyKernels body;
  ConvKernel residual;  ///< 3x3 in -> out, x_scale folded
  AttentionGate attention;
  float res_scale = 1;
};

/// WDIB (MY).
struct WdibKernels {
  WirwKernels srb1, srb2, srb3, srb4;
  WcrwKernels rb1, rb2;
  /// fuse1 reads c = [pa, pb] unscaled: scale_x1/scale_x2 are folded into
  /// its first kernels and into fuse2_sigmoid.
  WcrwKernels fuse1;
  InteractionGate a1, b1, a2, b2;
  ConvKernel distilled1_sigmoid, distilled2_sigmoid;  ///< 3x3 12 -> 24, sigmoid fused
  ConvKernel fuse2_sigmoid;                           ///< 1x1 48 -> 24, sigmoid fused
  AttentionGate attention;
};

/// FSWG (Li).
struct FswgKernels {
  WdibKernels my1, my2, my3;
  ConvKernel conv;   ///< 3x3 24 -> 24
  ConvKernel conv1;  ///< grouped 3x3 48 -> 24
  ConvKernel conv2;  ///< grouped 3x3 48 -> 24, scale_x folded
  WirwKernels rb1;
  float scale_x = 1, scale_res = 1;
};

/// The whole network.
struct NetworkKernels {
  int scale = 2;
  bool tail_from_shifted = false;
  float sub_mean[3][4];  ///< 3x3 matrix and bias of the 1x1 mean shift
  float add_mean[3][4];
  ConvKernel head;  ///< 3x3 3 -> 24
  FswgKernels li1, li2, li3;
  ConvKernel conv1, up1;  ///< 3x3 24 -> tail, 3x3 tail -> 3 s^2
  ConvKernel conv2, up2;  ///< 3x3 3 -> tail, 3x3 tail -> 3 s^2
};

/// The kernels of a loaded network (its parameters are copied).
NetworkKernels compile(const FDIWNImpl& model);

}  // namespace fdiwn::engine
