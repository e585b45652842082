// Any output size (--outscale, --width, --height): how many network passes
// at the run's scale reach it, and the exact size the result is then
// brought down to.
#pragma once

#include <string>

#include <opencv2/core/types.hpp>

namespace fdiwn::cli {

/// What the user asked for; all zero: the network's own scale.
struct OutputSize {
  double factor = 0;  ///< --outscale
  int width = 0;      ///< --width (with --height: fit inside both, keeping the aspect ratio)
  int height = 0;     ///< --height
  bool any() const { return factor > 0 || width > 0 || height > 0; }
};

struct SizePlan {
  int passes = 1;       ///< network passes at the run's scale (1 or 2)
  cv::Size target;      ///< the output's size
  bool resize = false;  ///< true if the network's result is resized to `target`
};

/// The plan for an input of `input` pixels with the network at `scale`.
/// Throws ImageError (naming `path`) if two passes do not reach the size.
SizePlan plan_size(const OutputSize& want, cv::Size input, int scale, const std::string& path);

/// A factor as messages and output names show it: "2", "1.5", "16.03".
std::string factor_text(double factor);

/// The network scale for --outscale `factor`: the smallest of 2, 3, 4 that
/// reaches it in one pass, else in two (factor up to 16).
int scale_for_factor(double factor);

}  // namespace fdiwn::cli
