// The engine's elementwise kernels, on runs of consecutive pixels of dense
// channels-last data (the channels of one pixel together): attention gates
// with their channel shuffle, residual terms, the WDIB's interactions, and
// statistics. A band calls them on rows that are still in cache.
//
// The channel count is FDIWN's trunk width, 24 (kC), unless a kernel says
// otherwise; `count` is a number of pixels.
#pragma once

#include <array>
#include <cstdint>

#include "engine/simd.hpp"

namespace fdiwn::engine {

inline constexpr int kC = 24;

/// Gate of channel c: gated(v) = v * sigmoid(a[c] * v + b[c]); a channel
/// gate (constant in v) has a[c] = 0.
struct Gates {
  std::array<float, kC> a{}, b{};
};

/// Per-channel multipliers (the CoffConv interaction weights).
using Weights = std::array<float, kC>;

namespace ops {

/// sum[c] += v, sq[c] += v * v over `count` pixels of `channels` values.
void accumulate_stats(const float* p, int64_t count, int channels, double* sum, double* sq);

/// y = act(body_scale * shuffle2(gated(t)) + x_scale * x), the output of a
/// residual weighting unit (shuffle attention on its body t, plus its
/// input): shuffle2 is the attention's 2-group channel shuffle, act a leaky
/// ReLU of the given slope (1: none). x may be null; y's pixels are
/// `y_stride` floats apart (a slice of a wider map).
void attend(const float* t, const Gates& gates, float body_scale, const float* x, float x_scale,
            float slope, float* y, int64_t y_stride, int64_t count);
/// attend() on the kernels of `simd` (the tests run each this CPU has).
void attend_with(Simd simd, const float* t, const Gates& gates, float body_scale, const float* x,
                 float x_scale, float slope, float* y, int64_t y_stride, int64_t count);
/// attend() without hand-written SIMD: the fallback on CPUs without AVX2,
/// and the reference its fast versions are tested against.
void attend_portable(const float* t, const Gates& gates, float body_scale, const float* x,
                     float x_scale, float slope, float* y, int64_t y_stride, int64_t count);

/// Copies `channels` values per pixel between pixels `src_stride` and
/// `dst_stride` floats apart (channel slices of wider maps).
void copy_channels(const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
                   int channels, int64_t count);

/// ob1 = ga * oa + x and oa1 = gb * x + oa; either output may be null.
void interact_first(const float* oa, const float* x, const Weights& ga, const Weights& gb,
                    float* ob1, float* oa1, int64_t count);

/// The second interaction, with oa1 = gb1 * x + oa recomputed (it is not
/// kept): ob2 = (ga * oa1 + ob) * s1 and oa2 = (gb * ob + oa1) * s2, written
/// over ob and oa.
void interact_second(const float* x, const Weights& gb1, float* oa, float* ob, const float* s1,
                     const float* s2, const Weights& ga, const Weights& gb, int64_t count);

/// y += f * p + x, p's pixels `p_stride` floats apart.
void add_gated(float* y, const float* f, const float* p, int64_t p_stride, const float* x,
               int64_t count);

/// y += a * x over `n` floats.
void axpy(float* y, float a, const float* x, int64_t n);

/// dst[to[c]] = src[c] for each pixel, dst's pixels `dst_stride` apart.
void scatter(const float* src, float* dst, int64_t dst_stride, const std::array<int, kC>& to,
             int64_t count);

}  // namespace ops
}  // namespace fdiwn::engine
