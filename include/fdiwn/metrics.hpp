// PSNR and SSIM as the SR benchmark's Matlab script computes them
// (Evaluate_PSNR_SSIM.m: Y channel of rgb2ycbcr, border shaved by the
// scale, PSNR in double, SSIM of Wang et al. 2004 with 'valid' filtering).
// No LibTorch here: OpenCV core/imgproc only.
#pragma once

#include <opencv2/core/mat.hpp>
#include "fdiwn/export.hpp"

FDIWN_API_BEGIN
namespace fdiwn {

/// The luma of Matlab's rgb2ycbcr on an im2double image, on the 0..255
/// scale: Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 with the 8-bit
/// values R, G, B. Input: 8-bit BGR (OpenCV's order); a 1-channel image is
/// taken as the Y channel already. Output: CV_64F, one channel, NOT rounded
/// (the protocol scores the unrounded luma).
/// Throws InvalidArgument for an empty image, another depth or channel count.
cv::Mat rgb_to_y(const cv::Mat& bgr8);

/// 10 log10(255^2 / MSE) in double over every value of every channel.
/// `a` and `b`: same size and channel count, 8-bit, 32-bit float or double
/// (on the 0..255 scale; the depths may differ). Identical images give
/// +infinity (std::numeric_limits<double>::infinity()).
/// Throws InvalidArgument for empty images or a size/channel mismatch.
double psnr(const cv::Mat& a, const cv::Mat& b);

/// SSIM of Wang et al. 2004 as in their ssim_index.m: 11x11 Gaussian window
/// (sigma 1.5, normalised to sum 1), K1 = 0.01, K2 = 0.03, L = 255, local
/// statistics by 'valid' filtering (the map is 10 pixels smaller each way),
/// the mean of the map. A multi-channel image gives the mean of the
/// per-channel SSIMs (BasicSR's convention for RGB).
/// Inputs as for psnr(). Throws InvalidArgument for a size/channel mismatch
/// or an image smaller than 11x11.
double ssim(const cv::Mat& a, const cv::Mat& b);

/// How score() compares an SR image with its HR reference.
struct ScoreOptions {
  /// Pixels shaved from each border before scoring. The protocol shaves the
  /// scale (use for_scale()); the default 0 shaves nothing.
  int crop_border = 0;
  /// true: the Y channel (the paper's protocol); false: all three colour
  /// channels (like BasicSR's --rgb).
  bool y_channel = true;

  /// The paper's protocol for scale s: shave s, Y channel.
  static ScoreOptions for_scale(int scale) { return ScoreOptions{scale, true}; }
};

struct Score {
  double psnr = 0.0;  ///< dB; +infinity for identical images
  double ssim = 0.0;
};

/// Scores an SR image against its HR reference, both 8-bit BGR (or both
/// 1-channel) of the same size (the HR mod-cropped to the SR size).
/// Throws InvalidArgument naming both sizes when they differ, for another
/// type, a negative crop_border, or when too little is left after cropping.
Score score(const cv::Mat& sr_bgr8, const cv::Mat& hr_bgr8, const ScoreOptions& opt);

}  // namespace fdiwn
FDIWN_API_END
