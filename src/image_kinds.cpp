#include "image_kinds.hpp"

#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "fdiwn/errors.hpp"

namespace fdiwn {

namespace {

std::string type_name(const cv::Mat& m) {
  static const char* depths[] = {"8U", "8S", "16U", "16S", "32S", "32F", "64F", "16F"};
  return std::string("CV_") + depths[m.depth()] + "C" + std::to_string(m.channels());
}

// Maps progress of pass `index` of `count` into the caller's 0..1.
ProgressCallback sub_progress(const ProgressCallback& progress, int index, int count) {
  if (!progress) return {};
  return [progress, index, count](double f) { progress((index + f) / count); };
}

// Network output of a gray channel: R=G=B in, luma out.
cv::Mat upscale_gray(const cv::Mat& gray, const ColorPass& pass, const ProgressCallback& progress) {
  cv::Mat bgr, out;
  cv::cvtColor(gray, bgr, cv::COLOR_GRAY2BGR);
  cv::cvtColor(pass(bgr, progress), out, cv::COLOR_BGR2GRAY);
  return out;
}

}  // namespace

void check_upscalable(const cv::Mat& image) {
  if (image.empty()) throw InvalidArgument("cannot upscale an empty image");
  const int c = image.channels(), d = image.depth();
  if ((c != 1 && c != 3 && c != 4) || (d != CV_8U && d != CV_16U && d != CV_32F)) {
    throw InvalidArgument("expected 1, 3 or 4 channels of 8-bit, 16-bit or float pixels, got " +
                          type_name(image));
  }
}

bool alpha_varies(const cv::Mat& image) {
  if (image.channels() != 4) return false;
  cv::Mat alpha;
  cv::extractChannel(image, alpha, 3);
  double lo = 0, hi = 0;
  cv::minMaxLoc(alpha, &lo, &hi);
  return lo != hi;
}

cv::Mat upscale_any_kind(const cv::Mat& image, int scale, AlphaMode alpha_mode,
                         const ColorPass& color_pass, const ProgressCallback& progress) {
  check_upscalable(image);
  if (image.channels() == 3) return color_pass(image, progress);
  if (image.channels() == 1) return upscale_gray(image, color_pass, progress);

  cv::Mat bgr, alpha;
  cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR);
  cv::extractChannel(image, alpha, 3);
  const cv::Size out_size(image.cols * scale, image.rows * scale);
  double alpha_min = 0, alpha_max = 0;
  cv::minMaxLoc(alpha, &alpha_min, &alpha_max);
  const bool varies = alpha_min != alpha_max;
  const bool network_alpha = alpha_mode == AlphaMode::Network && varies;
  const int passes = network_alpha ? 2 : 1;

  std::vector<cv::Mat> channels(4);
  cv::split(color_pass(bgr, sub_progress(progress, 0, passes)), channels.data());
  if (!varies) {
    // An opaque (or uniformly transparent) image stays exactly so.
    channels[3] = cv::Mat(out_size, alpha.type(), cv::Scalar(alpha_min));
  } else if (network_alpha) {
    channels[3] = upscale_gray(alpha, color_pass, sub_progress(progress, 1, passes));
  } else {
    cv::resize(alpha, channels[3], out_size, 0, 0, cv::INTER_CUBIC);
  }
  cv::Mat out;
  cv::merge(channels, out);
  return out;
}

}  // namespace fdiwn
