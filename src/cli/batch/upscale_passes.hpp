// The network's passes for one image and the resize to the asked size:
// what a batch and a frame stream both do with each image.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "cli/batch/output_size.hpp"
#include "fdiwn/upscaler.hpp"

namespace fdiwn::cli {

/// Upscales `in` as `plan` says: its network passes, then an area resize to
/// its target. `progress` gets the fraction of all passes done (it may throw
/// Cancelled to stop). Adds a note to `notes` when more than one pass ran or
/// the result was resized.
cv::Mat upscale_to_plan(Upscaler& upscaler, const cv::Mat& in, const SizePlan& plan, Mode mode,
                        const std::function<void(double)>& progress,
                        std::vector<std::string>& notes);

}  // namespace fdiwn::cli
