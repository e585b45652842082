// One convolution of the engine, run by oneDNN (the library LibTorch itself
// uses here) on the calling thread, over a band of rows or a run of pixels
// of a channels-last (NHWC) image, with its activation fused in and,
// optionally, added onto what the destination holds.
//
// The engine calls these from inside its own parallel loop over bands, where
// oneDNN runs each call single-threaded: one band is one thread's work, with
// no barrier per layer.
#pragma once

#include <cstdint>
#include <memory>

#include <torch/types.h>

#include "engine/bands.hpp"

namespace fdiwn::engine {

/// What follows the convolution, fused into it.
enum class PostOp { None, Relu, Sigmoid };

class ConvKernel {
 public:
  ConvKernel();
  /// weight: O x I/groups x k x k, bias: O or undefined. Stride 1, zero
  /// padding k/2 at the image's borders.
  ConvKernel(const torch::Tensor& weight, const torch::Tensor& bias, int64_t groups = 1,
             PostOp post = PostOp::None);
  ~ConvKernel();
  ConvKernel(ConvKernel&&) noexcept;
  ConvKernel& operator=(ConvKernel&&) noexcept;

  /// Output rows `out` of an image of height `height` and width `width`
  /// from input rows `in` (every row the kernel reaches that exists): `src`
  /// holds rows in.lo..in.hi, `dst` receives rows out.lo..out.hi, both
  /// dense NHWC. With `accumulate`, dst = post(conv(src) + dst).
  void rows(const float* src, Span in, Span out, int64_t height, int64_t width, float* dst,
            bool accumulate = false) const;
  /// A 1x1 kernel on `count` consecutive pixels.
  void pixels(const float* src, int64_t count, float* dst, bool accumulate = false) const;

  int64_t in_channels() const;
  int64_t out_channels() const;
  int64_t kernel_size() const;
  bool empty() const { return impl_ == nullptr; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fdiwn::engine
