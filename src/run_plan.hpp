// Choosing how to run an image: whole or chopped, and how much memory that
// takes. No LibTorch here; the numbers come from measurements (see
// kActivationBytesPerPixel).
#pragma once

#include <cstddef>
#include <cstdint>

#include <opencv2/core/types.hpp>

#include "fdiwn/options.hpp"

namespace fdiwn {

struct PlanRequest {
  cv::Size size;            ///< LR image size
  int channels = 3;         ///< 1, 3 or 4
  int bytes_per_value = 1;  ///< 1 (8-bit), 2 (16-bit) or 4 (float)
  int scale = 2;
  Mode mode = Mode::Whole;
  bool tta = false;
  bool alpha_network_pass = false;  ///< a varying alpha upscaled by the network
  std::size_t budget = 0;           ///< bytes, for Mode::Auto
  Path path = Path::Engine;         ///< the paths need different memory
};

struct DetailedPlan {
  RunPlan summary;
  /// Chop threshold: crops of this many LR pixels or more are split again.
  /// 0 for a whole-image run.
  int64_t min_size = 0;
};

/// The reference chop's threshold (EDSR/FDIWN test code).
inline constexpr int64_t kReferenceChopMinSize = 160000;

/// Plans `request`; throws InsufficientMemory if Mode::Auto cannot fit the
/// image in the budget even in small pieces.
DetailedPlan make_plan(const PlanRequest& request);

}  // namespace fdiwn
