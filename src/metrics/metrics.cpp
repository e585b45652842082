// PSNR / SSIM in the benchmark's Matlab protocol. Everything is computed in
// double, as Matlab does, so that set means agree with the published tables
// to 4 decimals.
#include "fdiwn/metrics.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "fdiwn/errors.hpp"

namespace fdiwn {

namespace {

std::string size_str(const cv::Mat& m) {
  return std::to_string(m.cols) + "x" + std::to_string(m.rows) + "x" + std::to_string(m.channels());
}

// Both images: non-empty, same size and channel count, a depth we read.
void check_pair(const cv::Mat& a, const cv::Mat& b, const char* what) {
  if (a.empty() || b.empty()) throw InvalidArgument(std::string(what) + ": an image is empty");
  if (a.size() != b.size() || a.channels() != b.channels()) {
    throw InvalidArgument(std::string(what) + ": the images differ in size (" + size_str(a) +
                          " vs " + size_str(b) + ", width x height x channels)");
  }
  for (const cv::Mat* m : {&a, &b}) {
    const int d = m->depth();
    if (d != CV_8U && d != CV_32F && d != CV_64F) {
      throw InvalidArgument(std::string(what) +
                            ": only 8-bit, 32-bit float and double images are supported "
                            "(got OpenCV depth " +
                            std::to_string(d) + ")");
    }
  }
}

cv::Mat to_double(const cv::Mat& m) {
  cv::Mat d;
  m.convertTo(d, CV_64F);
  return d;
}

// SSIM of one CV_64F channel pair.
double ssim_channel(const cv::Mat& img1, const cv::Mat& img2) {
  constexpr int kWin = 11;
  constexpr double kSigma = 1.5;
  constexpr double kC1 = (0.01 * 255) * (0.01 * 255);
  constexpr double kC2 = (0.03 * 255) * (0.03 * 255);
  // fspecial('gaussian', 11, 1.5) normalised to sum 1 is the outer product
  // of this normalised 1-D Gaussian with itself, so the filter is separable.
  cv::Mat g(kWin, 1, CV_64F);
  double sum = 0.0;
  for (int i = 0; i < kWin; ++i) {
    const double x = i - kWin / 2;
    g.at<double>(i) = std::exp(-(x * x) / (2.0 * kSigma * kSigma));
    sum += g.at<double>(i);
  }
  g /= sum;

  // 'valid' filtering: only windows fully inside the image, so the border
  // rule of sepFilter2D never reaches the pixels we keep.
  const cv::Rect valid(kWin / 2, kWin / 2, img1.cols - (kWin - 1), img1.rows - (kWin - 1));
  auto filter = [&](const cv::Mat& m) {
    cv::Mat out;
    cv::sepFilter2D(m, out, CV_64F, g, g, cv::Point(-1, -1), 0.0, cv::BORDER_REFLECT);
    return cv::Mat(out, valid);
  };
  const cv::Mat mu1 = filter(img1);
  const cv::Mat mu2 = filter(img2);
  const cv::Mat mu1_sq = mu1.mul(mu1);
  const cv::Mat mu2_sq = mu2.mul(mu2);
  const cv::Mat mu1_mu2 = mu1.mul(mu2);
  const cv::Mat sigma1_sq = filter(img1.mul(img1)) - mu1_sq;
  const cv::Mat sigma2_sq = filter(img2.mul(img2)) - mu2_sq;
  const cv::Mat sigma12 = filter(img1.mul(img2)) - mu1_mu2;

  cv::Mat num = (2 * mu1_mu2 + kC1).mul(2 * sigma12 + kC2);
  cv::Mat den = (mu1_sq + mu2_sq + kC1).mul(sigma1_sq + sigma2_sq + kC2);
  cv::Mat map;
  cv::divide(num, den, map);
  return cv::mean(map)[0];
}

}  // namespace

cv::Mat rgb_to_y(const cv::Mat& bgr8) {
  if (bgr8.empty()) throw InvalidArgument("rgb_to_y: the image is empty");
  if (bgr8.depth() != CV_8U || (bgr8.channels() != 3 && bgr8.channels() != 1)) {
    throw InvalidArgument("rgb_to_y: expected an 8-bit BGR or 1-channel image, got " +
                          std::to_string(bgr8.channels()) + " channel(s) of OpenCV depth " +
                          std::to_string(bgr8.depth()));
  }
  if (bgr8.channels() == 1) return to_double(bgr8);
  cv::Mat y(bgr8.size(), CV_64F);
  for (int r = 0; r < bgr8.rows; ++r) {
    const uchar* p = bgr8.ptr<uchar>(r);
    double* out = y.ptr<double>(r);
    for (int c = 0; c < bgr8.cols; ++c, p += 3) {
      const double b = p[0], g = p[1], rr = p[2];
      out[c] = 16.0 + (65.481 * rr + 128.553 * g + 24.966 * b) / 255.0;
    }
  }
  return y;
}

double psnr(const cv::Mat& a, const cv::Mat& b) {
  check_pair(a, b, "psnr");
  const double sq = cv::norm(to_double(a), to_double(b), cv::NORM_L2SQR);
  const double mse = sq / static_cast<double>(a.total() * a.channels());
  if (mse == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(255.0 * 255.0 / mse);
}

double ssim(const cv::Mat& a, const cv::Mat& b) {
  check_pair(a, b, "ssim");
  if (a.rows < 11 || a.cols < 11) {
    throw InvalidArgument("ssim: the images are " + std::to_string(a.cols) + "x" +
                          std::to_string(a.rows) +
                          " (after any border crop); the 11x11 window needs at least 11x11");
  }
  std::vector<cv::Mat> ca, cb;
  cv::split(to_double(a), ca);
  cv::split(to_double(b), cb);
  double total = 0.0;
  for (size_t i = 0; i < ca.size(); ++i) total += ssim_channel(ca[i], cb[i]);
  return total / static_cast<double>(ca.size());
}

Score score(const cv::Mat& sr_bgr8, const cv::Mat& hr_bgr8, const ScoreOptions& opt) {
  if (sr_bgr8.empty() || hr_bgr8.empty()) throw InvalidArgument("score: an image is empty");
  if (sr_bgr8.size() != hr_bgr8.size()) {
    throw InvalidArgument("score: the SR image is " + std::to_string(sr_bgr8.cols) + "x" +
                          std::to_string(sr_bgr8.rows) + " but the HR image is " +
                          std::to_string(hr_bgr8.cols) + "x" + std::to_string(hr_bgr8.rows) +
                          " (mod-crop the HR image to the SR size)");
  }
  for (const cv::Mat* m : {&sr_bgr8, &hr_bgr8}) {
    if (m->type() != CV_8UC3 && m->type() != CV_8UC1) {
      throw InvalidArgument("score: expected 8-bit BGR (or 1-channel) images, got " +
                            std::to_string(m->channels()) + " channel(s) of OpenCV depth " +
                            std::to_string(m->depth()));
    }
  }
  if (sr_bgr8.channels() != hr_bgr8.channels()) {
    throw InvalidArgument("score: the SR image has " + std::to_string(sr_bgr8.channels()) +
                          " channel(s), the HR image " + std::to_string(hr_bgr8.channels()));
  }
  const int c = opt.crop_border;
  if (c < 0) throw InvalidArgument("score: crop_border must be >= 0, got " + std::to_string(c));
  if (int64_t{2} * c >= sr_bgr8.cols || int64_t{2} * c >= sr_bgr8.rows) {  // no int overflow
    throw InvalidArgument("score: crop_border " + std::to_string(c) + " leaves nothing of a " +
                          std::to_string(sr_bgr8.cols) + "x" + std::to_string(sr_bgr8.rows) +
                          " image");
  }
  const cv::Rect inner(c, c, sr_bgr8.cols - 2 * c, sr_bgr8.rows - 2 * c);
  // BGR vs RGB order does not matter for the all-channel scores: both PSNR
  // and the per-channel SSIM mean are symmetric in the channels.
  const cv::Mat sr = opt.y_channel ? rgb_to_y(sr_bgr8)(inner) : to_double(sr_bgr8(inner));
  const cv::Mat hr = opt.y_channel ? rgb_to_y(hr_bgr8)(inner) : to_double(hr_bgr8(inner));
  Score s;
  s.psnr = psnr(sr, hr);
  s.ssim = ssim(sr, hr);
  return s;
}

}  // namespace fdiwn
