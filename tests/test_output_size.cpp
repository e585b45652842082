// Any output size: which passes reach it, and the exact size asked for.
#include <string>

#include <gtest/gtest.h>

#include "cli/batch/output_size.hpp"
#include "fdiwn/errors.hpp"

namespace fdiwn::cli {
namespace {

void expect_plan(const std::string& what, const OutputSize& want, cv::Size in, int scale,
                 int passes, cv::Size target, bool resize) {
  SCOPED_TRACE(what);
  const SizePlan p = plan_size(want, in, scale, "x.png");
  EXPECT_EQ(p.passes, passes);
  EXPECT_EQ(p.target, target);
  EXPECT_EQ(p.resize, resize);
}

TEST(OutputSize, ScaleForFactor) {
  EXPECT_EQ(scale_for_factor(1.0), 2);
  EXPECT_EQ(scale_for_factor(1.5), 2);
  EXPECT_EQ(scale_for_factor(2.0), 2);
  EXPECT_EQ(scale_for_factor(2.5), 3);
  EXPECT_EQ(scale_for_factor(4.0), 4);
  EXPECT_EQ(scale_for_factor(4.5), 3);  // 3 x 3 = 9 reaches it in two passes
  EXPECT_EQ(scale_for_factor(9.0), 3);
  EXPECT_EQ(scale_for_factor(9.5), 4);
  EXPECT_EQ(scale_for_factor(16.0), 4);
}

TEST(OutputSize, Plans) {
  expect_plan("none", {}, {64, 48}, 4, 1, {256, 192}, false);
  expect_plan("outscale = scale", {2.0, 0, 0}, {64, 48}, 2, 1, {128, 96}, false);
  expect_plan("outscale 1.5", {1.5, 0, 0}, {64, 48}, 2, 1, {96, 72}, true);
  expect_plan("outscale 8 at x3", {8.0, 0, 0}, {64, 48}, 3, 2, {512, 384}, true);
  expect_plan("outscale 16", {16.0, 0, 0}, {10, 7}, 4, 2, {160, 112}, false);
  expect_plan("width", {0, 1000, 0}, {64, 48}, 4, 2, {1000, 750}, true);
  expect_plan("height", {0, 0, 77}, {64, 48}, 4, 1, {103, 77}, true);
  expect_plan("fit inside", {0, 100, 100}, {64, 48}, 4, 1, {100, 75}, true);
  expect_plan("fit inside, tall", {0, 100, 100}, {30, 60}, 4, 1, {50, 100}, true);
  expect_plan("smaller than the input", {0, 32, 0}, {64, 48}, 2, 1, {32, 24}, true);
  expect_plan("rounding", {1.5, 0, 0}, {3, 1}, 2, 1, {5, 2}, true);
}

// The message for 5000 pixels wide from 64 at `scale`.
std::string beyond_two_passes(int scale) {
  try {
    plan_size({0, 5000, 0}, {64, 48}, scale, "x.png");
  } catch (const ImageError& e) {
    return e.what();
  }
  return "no error";
}

TEST(OutputSize, BeyondTwoPassesIsRefused) {
  const std::string at_two = beyond_two_passes(2);
  EXPECT_NE(at_two.find("two passes"), std::string::npos) << at_two;
  EXPECT_NE(at_two.find("x.png"), std::string::npos) << at_two;
  EXPECT_NE(at_two.find("use -s 4"), std::string::npos) << at_two;
  // Found by hand: at -s 4 already, it advised "use -s 4".
  const std::string at_four = beyond_two_passes(4);
  EXPECT_EQ(at_four.find("-s 4"), std::string::npos) << at_four;
  EXPECT_NE(at_four.find("ask for a smaller size"), std::string::npos) << at_four;
}

TEST(OutputSize, FactorsAreShownAsTheyAre) {
  EXPECT_EQ(factor_text(2), "2");
  EXPECT_EQ(factor_text(1.5), "1.5");
  EXPECT_EQ(factor_text(2.0 / 3 * 4), "2.67");
  // Found by hand: 513 from 32 was "x16 is more than two passes reach (x16)".
  EXPECT_EQ(factor_text(513.0 / 32), "16.0312");
}

}  // namespace
}  // namespace fdiwn::cli
