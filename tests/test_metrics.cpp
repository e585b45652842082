// PSNR / SSIM / Y conversion of the Matlab protocol: values worked out by
// hand on tiny images, the scoring options and errors, and the Set5 means
// of the authors' outputs against the table in docs/evaluation.md.
#include <climits>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "fdiwn/errors.hpp"
#include "fdiwn/matlab_resize.hpp"
#include "fdiwn/metrics.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kC1 = 6.5025;   // (0.01 * 255)^2
constexpr double kC2 = 58.5225;  // (0.03 * 255)^2

cv::Mat random_bgr(int rows, int cols, int lo = 0, int hi = 256) {
  cv::Mat m(rows, cols, CV_8UC3);
  cv::theRNG().state = 1234;
  cv::randu(m, lo, hi);
  return m;
}

void expect_invalid(const std::function<void()>& call, const std::vector<std::string>& needles) {
  try {
    call();
    ADD_FAILURE() << "no InvalidArgument thrown";
  } catch (const InvalidArgument& e) {
    for (const std::string& needle : needles) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
          << "'" << e.what() << "' should mention '" << needle << "'";
    }
  }
}

// --- Y channel --------------------------------------------------------------

void expect_y(int r, int g, int b, double expected) {
  SCOPED_TRACE("R,G,B = " + std::to_string(r) + "," + std::to_string(g) + "," + std::to_string(b));
  const cv::Mat bgr(1, 1, CV_8UC3, cv::Scalar(b, g, r));
  const cv::Mat y = rgb_to_y(bgr);
  ASSERT_EQ(y.type(), CV_64FC1);
  EXPECT_NEAR(y.at<double>(0, 0), expected, 1e-12);
}

// 16 + (65.481 R + 128.553 G + 24.966 B) / 255; the coefficients sum to 219.
TEST(Metrics, YOfBlackIs16) {
  expect_y(0, 0, 0, 16.0);
}
TEST(Metrics, YOfWhiteIs235) {
  expect_y(255, 255, 255, 235.0);
}
TEST(Metrics, YOfPureRed) {
  expect_y(255, 0, 0, 81.481);
}
TEST(Metrics, YOfPureGreen) {
  expect_y(0, 255, 0, 144.553);
}
TEST(Metrics, YOfPureBlueReadsOpenCvOrder) {
  expect_y(0, 0, 255, 40.966);
}
// 16 + (654.81 + 2571.06 + 748.98) / 255 = 16 + 3974.85 / 255 (not rounded).
TEST(Metrics, YIsNotRounded) {
  expect_y(10, 20, 30, 31.587647058823528);
}
// 16 + (13096.2 + 12855.3 + 1248.3) / 255 = 16 + 27199.8 / 255.
TEST(Metrics, YOfAMixedColour) {
  expect_y(200, 100, 50, 122.66588235294117);
}

TEST(Metrics, YOfGrayIsTheImageAsDouble) {
  const cv::Mat y = rgb_to_y(cv::Mat(2, 3, CV_8UC1, cv::Scalar(42)));
  ASSERT_EQ(y.type(), CV_64FC1);
  EXPECT_EQ(cv::countNonZero(y != 42.0), 0);
}

// --- PSNR ---------------------------------------------------------------------

void expect_psnr(const cv::Mat& a, const cv::Mat& b, double expected) {
  SCOPED_TRACE("expected PSNR " + std::to_string(expected));
  if (std::isinf(expected)) {
    EXPECT_EQ(psnr(a, b), expected);
  } else {
    EXPECT_NEAR(psnr(a, b), expected, 1e-9);
  }
}

TEST(Metrics, PsnrOfIdenticalImagesIsInfinite) {
  const cv::Mat a = random_bgr(9, 7);
  expect_psnr(a, a.clone(), kInf);
  cv::Mat d;
  a.convertTo(d, CV_64F);
  expect_psnr(d, d.clone(), kInf);
}
// MSE 650.25 = 255^2 / 100 -> 10 log10(100) = 20 dB.
TEST(Metrics, PsnrOfAConstantOffset) {
  expect_psnr(cv::Mat(4, 5, CV_64FC1, cv::Scalar(0)), cv::Mat(4, 5, CV_64FC1, cv::Scalar(25.5)),
              20.0);
}
// Every value off by 1: MSE 1 -> 20 log10(255).
TEST(Metrics, PsnrOfAnOffByOneImage) {
  const cv::Mat a = random_bgr(6, 6, 0, 255);
  expect_psnr(a, a + cv::Scalar::all(1), 48.1308036086791);
}
// One channel of three off by 3: MSE 9/3 = 3 over all values.
TEST(Metrics, PsnrAveragesOverAllChannels) {
  const cv::Mat a = random_bgr(6, 6, 0, 250);
  expect_psnr(a, a + cv::Scalar(0, 3, 0), 10.0 * std::log10(255.0 * 255.0 / 3.0));
}
// 8-bit against double, off by 0.5: MSE 0.25 -> 20 log10(255) + 20 log10(2).
TEST(Metrics, PsnrMixesDepths) {
  const cv::Mat a(3, 3, CV_8UC1, cv::Scalar(100));
  expect_psnr(a, cv::Mat(3, 3, CV_64FC1, cv::Scalar(100.5)), 48.1308036086791 + 6.020599913279624);
}

// --- SSIM ---------------------------------------------------------------------

void expect_ssim(const cv::Mat& a, const cv::Mat& b, double expected) {
  SCOPED_TRACE("expected SSIM " + std::to_string(expected));
  EXPECT_NEAR(ssim(a, b), expected, 1e-10);
}

// Constant images p and q: every window has mean p (q) and variance 0, so
//   SSIM = (2pq + C1)(0 + C2) / ((p^2 + q^2 + C1)(0 + C2))
//        = (2pq + C1) / (p^2 + q^2 + C1);  p = 100, q = 110:
//        = 22006.5025 / 22106.5025 = 0.9954764440915066.
TEST(Metrics, SsimOfConstantImages) {
  expect_ssim(cv::Mat(16, 13, CV_64FC1, cv::Scalar(100)),
              cv::Mat(16, 13, CV_64FC1, cv::Scalar(110)), 0.9954764440915066);
}

TEST(Metrics, SsimOfIdenticalImagesIsOne) {
  const cv::Mat a = random_bgr(20, 30);
  EXPECT_EQ(ssim(a, a.clone()), 1.0);
}

// An 11x11 image has exactly one 'valid' window. Let it be p everywhere but
// p + d at the centre. With the Gaussian g(k) = exp(-k^2 / 4.5), k = -5..5,
// S = sum g, the normalised window gives the centre gc = 1/S^2, so
//   mu1 = p + gc d,   sigma1^2 = gc d^2 - (gc d)^2 = gc (1 - gc) d^2,
// and for b = alpha a + beta:
//   mu2 = alpha mu1 + beta, sigma2^2 = alpha^2 sigma1^2, sigma12 = alpha sigma1^2.
double spike_ssim(double p, double d, double alpha, double beta) {
  double s = 0.0;
  for (int k = -5; k <= 5; ++k) s += std::exp(-k * k / 4.5);
  const double gc = 1.0 / (s * s);
  const double mu1 = p + gc * d;
  const double var1 = gc * (1.0 - gc) * d * d;
  const double mu2 = alpha * mu1 + beta;
  return (2 * mu1 * mu2 + kC1) * (2 * alpha * var1 + kC2) /
         ((mu1 * mu1 + mu2 * mu2 + kC1) * ((1 + alpha * alpha) * var1 + kC2));
}

cv::Mat spike(double p, double d) {
  cv::Mat m(11, 11, CV_64FC1, cv::Scalar(p));
  m.at<double>(5, 5) = p + d;
  return m;
}

TEST(Metrics, SsimOfAnImageAndItsAffineTransform) {
  const cv::Mat a = spike(100, 50);
  expect_ssim(a, 0.5 * a + 20, spike_ssim(100, 50, 0.5, 20));
  expect_ssim(a, -1.0 * a + 255, spike_ssim(100, 50, -1.0, 255));
}

// Three channels: the mean of the three per-channel SSIMs.
TEST(Metrics, SsimOfColourIsTheMeanOverChannels) {
  const cv::Mat a = spike(100, 50);
  cv::Mat x, y;
  cv::merge(std::vector<cv::Mat>{a, cv::Mat(11, 11, CV_64FC1, cv::Scalar(100)), a}, x);
  cv::merge(std::vector<cv::Mat>{a, cv::Mat(11, 11, CV_64FC1, cv::Scalar(110)), 0.5 * a + 20}, y);
  expect_ssim(x, y, (1.0 + 0.9954764440915066 + spike_ssim(100, 50, 0.5, 20)) / 3.0);
}

TEST(Metrics, SsimNeedsAnElevenByElevenWindow) {
  expect_invalid([] { ssim(cv::Mat(10, 20, CV_8UC1), cv::Mat(10, 20, CV_8UC1)); },
                 {"20x10", "11x11"});
  expect_invalid([] { ssim(cv::Mat(12, 12, CV_8UC1), cv::Mat(12, 11, CV_8UC1)); },
                 {"12x12", "11x12"});
}

// --- score() ------------------------------------------------------------------

// The border ring of width 2 differs, the inside is identical: shaving 2
// leaves identical images, shaving 1 does not.
TEST(Metrics, ScoreShavesTheBorder) {
  const cv::Mat hr = random_bgr(24, 32);
  cv::Mat sr = random_bgr(24, 32, 0, 128);
  hr(cv::Rect(2, 2, 28, 20)).copyTo(sr(cv::Rect(2, 2, 28, 20)));
  const Score shaved = score(sr, hr, ScoreOptions::for_scale(2));
  EXPECT_EQ(shaved.psnr, kInf);
  EXPECT_EQ(shaved.ssim, 1.0);
  const Score less = score(sr, hr, ScoreOptions{1, true});
  EXPECT_TRUE(std::isfinite(less.psnr));
  EXPECT_LT(less.ssim, 1.0);
  // The same as scoring the cropped Y channels by hand.
  const cv::Rect inner(1, 1, 30, 22);
  EXPECT_EQ(less.psnr, psnr(rgb_to_y(sr)(inner), rgb_to_y(hr)(inner)));
  EXPECT_EQ(less.ssim, ssim(rgb_to_y(sr)(inner), rgb_to_y(hr)(inner)));
}

// Blue off by 3: the Y channel moves by 3 * 24.966 / 255; all three
// channels have MSE 9/3 and the SSIM mean of (SSIM(blue), 1, 1).
TEST(Metrics, ScoreOnYOrOnAllChannels) {
  const cv::Mat hr = random_bgr(20, 20, 0, 250);
  const cv::Mat sr = hr + cv::Scalar(3, 0, 0);
  const double dy = 3 * 24.966 / 255;
  EXPECT_NEAR(score(sr, hr, ScoreOptions{0, true}).psnr, 10 * std::log10(255.0 * 255.0 / (dy * dy)),
              1e-9);
  const Score rgb = score(sr, hr, ScoreOptions{0, false});
  EXPECT_NEAR(rgb.psnr, 10 * std::log10(255.0 * 255.0 / 3.0), 1e-9);
  std::vector<cv::Mat> s, h;
  cv::split(sr, s);
  cv::split(hr, h);
  EXPECT_NEAR(rgb.ssim, (ssim(s[0], h[0]) + 2.0) / 3.0, 1e-12);
}

TEST(Metrics, ScoreRejectsMismatchedImages) {
  const cv::Mat a = random_bgr(30, 40);
  expect_invalid([&] { score(a, random_bgr(32, 40), ScoreOptions::for_scale(2)); },
                 {"40x30", "40x32"});
  expect_invalid([&] { score(a, cv::Mat(30, 40, CV_8UC1), ScoreOptions::for_scale(2)); },
                 {"channel"});
  expect_invalid([&] { score(cv::Mat(30, 40, CV_16UC3), a, ScoreOptions::for_scale(2)); },
                 {"8-bit"});
  expect_invalid([&] { score(a, a, ScoreOptions{-1, true}); }, {"crop_border"});
  expect_invalid([&] { score(a, a, ScoreOptions{15, true}); }, {"crop_border 15", "40x30"});
  // Found by hand: twice the border overflowed int (a crash in metrics).
  expect_invalid([&] { score(a, a, ScoreOptions{INT_MAX, true}); }, {"crop_border 2147483647"});
  // 40x30 shaved by 10 leaves 20x10: too small for SSIM.
  expect_invalid([&] { score(a, a, ScoreOptions{10, true}); }, {"20x10", "11x11"});
}

// --- The authors' Set5 outputs against the table of docs/evaluation.md --------

// Set5 HR for every scale is a mod-crop of the originals in Set5/HR/x4.
void expect_set5_mean(int scale, const std::string& mode, double table_psnr, double table_ssim) {
  SCOPED_TRACE("Set5 x" + std::to_string(scale) + " " + mode);
  double psnr_sum = 0.0, ssim_sum = 0.0;
  for (const std::string& name : set5_names()) {
    const std::string sr_file =
        "golden/Set5/x" + std::to_string(scale) + "/" + mode + "/" + name + ".png";
    const cv::Mat sr = cv::imread(data_path(sr_file), cv::IMREAD_COLOR);
    const cv::Mat hr = cv::imread(data_path("Set5/HR/x4/" + name + ".png"), cv::IMREAD_COLOR);
    ASSERT_FALSE(sr.empty() || hr.empty()) << "cannot read " << sr_file << " or its HR image";
    const Score s = score(sr, mod_crop(hr, scale), ScoreOptions::for_scale(scale));
    psnr_sum += s.psnr;
    ssim_sum += s.ssim;
  }
  EXPECT_NEAR(psnr_sum / 5, table_psnr, 0.0005);
  EXPECT_NEAR(ssim_sum / 5, table_ssim, 0.00005);
}

TEST(Metrics, Set5X2ChopMatchesTable) {
  expect_set5_mean(2, "chop", 38.0666, 0.9608);
}
TEST(Metrics, Set5X2WholeMatchesTable) {
  expect_set5_mean(2, "whole", 38.0583, 0.9607);
}
TEST(Metrics, Set5X3ChopMatchesTable) {
  expect_set5_mean(3, "chop", 34.5195, 0.9281);
}
TEST(Metrics, Set5X3WholeMatchesTable) {
  expect_set5_mean(3, "whole", 34.5120, 0.9280);
}
TEST(Metrics, Set5X4ChopMatchesTable) {
  expect_set5_mean(4, "chop", 32.2267, 0.8955);
}
TEST(Metrics, Set5X4WholeMatchesTable) {
  expect_set5_mean(4, "whole", 32.2168, 0.8954);
}

}  // namespace
}  // namespace fdiwn::test
