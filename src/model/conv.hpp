// Convolution factory shared by the model's translation units.
#pragma once

#include <cstdint>

#include <torch/nn/modules/conv.h>

namespace fdiwn {

/// k x k convolution, stride 1, zero padding k/2 (FDIWN's only kind).
inline torch::nn::Conv2d conv2d(int64_t in, int64_t out, int64_t k, bool bias = true,
                                int64_t groups = 1) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, k).padding(k / 2).bias(bias).groups(groups));
}

}  // namespace fdiwn
