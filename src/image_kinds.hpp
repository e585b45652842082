// Gray, BGR and BGRA images of 8-bit, 16-bit or float pixels, reduced to the
// one thing the network does: upscale 3-channel colour.
#pragma once

#include <functional>

#include <opencv2/core/mat.hpp>

#include "fdiwn/options.hpp"

namespace fdiwn {

/// Upscales one 3-channel BGR image of the given depth (8U, 16U or 32F) and
/// returns the same depth, reporting its own progress from 0 to 1.
using ColorPass = std::function<cv::Mat(const cv::Mat& bgr, const ProgressCallback& progress)>;

/// Throws InvalidArgument unless `image` is 1, 3 or 4 channels of 8U, 16U
/// or 32F and not empty.
void check_upscalable(const cv::Mat& image);

/// True if a 4-channel image's alpha is not the same everywhere (only then
/// does it need a pass of its own).
bool alpha_varies(const cv::Mat& image);

/// Runs `color_pass` on the colour of `image` and, for BGRA with a varying
/// alpha and AlphaMode::Network, on the alpha replicated to 3 channels;
/// gray comes back as luma, alpha re-attached.
cv::Mat upscale_any_kind(const cv::Mat& image, int scale, AlphaMode alpha,
                         const ColorPass& color_pass, const ProgressCallback& progress);

}  // namespace fdiwn
