// Fused elementwise kernels of the optimised path.
//
// The plain path spends more than half its time outside the convolutions:
// the shuffle attention alone is a dozen eager ops (views, chunks, means, a
// group norm, sigmoids, multiplies, a concatenation, a channel shuffle), each
// reading and writing the whole feature map. Here each such chain is one or
// two passes over channels-last (NHWC) memory: one to gather per-channel
// statistics, one to apply gates, shuffle, residual terms and activation,
// optionally gathering the statistics of its own output for the next gate.
//
// Tensors are N x C x H x W float32 in channels-last layout; a channel slice
// of a wider buffer is fine (pixels C' floats apart, rows contiguous).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace fdiwn::fused {

/// The trunk width the kernels are specialised for (FDIWN's n_feats).
inline constexpr int kC = 24;

/// Mean and population variance of each channel of one image.
struct ChannelStats {
  std::array<double, 2 * kC> mean{};  ///< up to 48 channels
  std::array<double, 2 * kC> var{};
};

/// Per-image statistics of a channels-last tensor with at most 48 channels.
std::vector<ChannelStats> channel_stats(const torch::Tensor& x);

/// Gate of channel c: gated(v) = v * sigmoid(a[c] * v + b[c]); a channel
/// gate (constant in v) has a[c] = 0.
struct Gates {
  std::array<float, kC> a{};
  std::array<float, kC> b{};
};

/// One additive term of attention_apply: scale * t, times `gate` (elementwise)
/// if one is given. Both kC channels, channels-last.
struct Term {
  const torch::Tensor* tensor = nullptr;
  float scale = 1.f;
  const torch::Tensor* gate = nullptr;
};

/// out = act(body_scale * shuffle2(gates(body)) + sum of terms), where
/// shuffle2 is the attention's 2-group channel shuffle and act a leaky ReLU
/// (negative_slope 1: none). Writes `out` and, if given, its two 12-channel
/// halves as dense tensors and/or a scatter of it into a wider buffer
/// (channel c to channel scatter_to[c]); gathers the statistics of `out` if
/// asked.
struct ApplyArgs {
  const torch::Tensor* body = nullptr;
  std::vector<Gates> gates;  ///< one per image
  float body_scale = 1.f;
  std::vector<Term> terms;  ///< at most 4
  float negative_slope = 1.f;
  torch::Tensor* out = nullptr;
  torch::Tensor* out_low = nullptr;   ///< channels 0..11, dense
  torch::Tensor* out_high = nullptr;  ///< channels 12..23, dense
  torch::Tensor* scatter = nullptr;   ///< wider buffer
  std::array<int, kC> scatter_to{};
  std::vector<ChannelStats>* out_stats = nullptr;
};
void attention_apply(const ApplyArgs& args);

/// The WDIB's first interaction: ob1 = ga * oa + x, oa1 = gb * x + oa with
/// per-image, per-channel gates; gathers the statistics of oa1.
void interact_first(const torch::Tensor& oa, const torch::Tensor& x,
                    const std::vector<std::array<float, kC>>& ga,
                    const std::vector<std::array<float, kC>>& gb, torch::Tensor& ob1,
                    torch::Tensor& oa1, std::vector<ChannelStats>& oa1_stats);

/// The second: ob2 = (ga * oa1 + ob) * s1, oa2 = (gb * ob + oa1) * s2, s1/s2
/// the distilled convolutions' outputs (after their sigmoid).
void interact_second(const torch::Tensor& oa1, const torch::Tensor& ob, const torch::Tensor& s1,
                     const torch::Tensor& s2, const std::vector<std::array<float, kC>>& ga,
                     const std::vector<std::array<float, kC>>& gb, torch::Tensor& ob2,
                     torch::Tensor& oa2);

/// dst[..., to[c]] = src[..., c] for each of src's kC channels.
void scatter_channels(const torch::Tensor& src, torch::Tensor& dst, const std::array<int, kC>& to);

/// A new channels-last tensor (uninitialised).
torch::Tensor empty_nhwc(int64_t n, int64_t c, int64_t h, int64_t w);

}  // namespace fdiwn::fused
