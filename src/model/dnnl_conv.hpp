// A convolution of the optimised path, run by oneDNN directly (the library
// LibTorch itself uses here) so that it can end in a fused activation or add
// into an existing buffer: LibTorch 1.13's conv2d cannot, and every separate
// ReLU or sigmoid is one more pass over a 48-108 channel feature map.
#pragma once

#include <cstdint>
#include <memory>

#include <torch/types.h>

namespace fdiwn {

/// What follows the convolution, fused into it.
enum class PostOp { None, Relu, Sigmoid };

class DnnlConv {
 public:
  DnnlConv() = default;
  /// weight: O x I/groups x k x k (any layout), bias: O or undefined.
  /// Stride 1, zero padding k/2.
  DnnlConv(const torch::Tensor& weight, const torch::Tensor& bias, int64_t groups = 1,
           PostOp post = PostOp::None);
  ~DnnlConv();
  DnnlConv(DnnlConv&&) noexcept;
  DnnlConv& operator=(DnnlConv&&) noexcept;

  /// post(conv(x)) as a new channels-last tensor; x: channels-last,
  /// dense N x I x H x W float32.
  torch::Tensor operator()(const torch::Tensor& x) const;
  /// dst = post(conv(x) + dst): adds into an existing dense channels-last
  /// tensor of the output's shape.
  void accumulate(const torch::Tensor& x, torch::Tensor& dst) const;

  /// second(first(x)) for two chained 1x1 convolutions, run over runs of
  /// pixels small enough that first's output stays in cache: that wide
  /// intermediate (48 or 96 channels in FDIWN's units; 400 MB at 1920x1080)
  /// never goes to memory, which is what keeps the cost per pixel of large
  /// images near that of small ones.
  static torch::Tensor pointwise_pair(const DnnlConv& first, const DnnlConv& second,
                                      const torch::Tensor& x);

  int64_t out_channels() const;
  bool empty() const { return impl_ == nullptr; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fdiwn
