// The chop plan against a simulation of the authors' recursive chop, and the
// memory planning of Mode::Auto.
#include <functional>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include "chop_geometry.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/upscaler.hpp"
#include "run_plan.hpp"

namespace fdiwn::test {
namespace {

// The identity of a network run: its crop (absolute LR coordinates).
using CropId = cv::Vec4i;  // x, y, width, height

// EDSR's forward_chop, written as the reference is, on a "network" whose
// output pixels record which crop produced them.
cv::Mat reference_chop(cv::Rect crop, int s, int64_t min_size, int shave = 10) {
  const int h = crop.height, w = crop.width;
  const int h_half = h / 2, w_half = w / 2;
  const int h_size = h_half + shave, w_size = w_half + shave;
  const cv::Rect parts[4] = {{crop.x, crop.y, w_size, h_size},
                             {crop.x + w - w_size, crop.y, w_size, h_size},
                             {crop.x, crop.y + h - h_size, w_size, h_size},
                             {crop.x + w - w_size, crop.y + h - h_size, w_size, h_size}};
  cv::Mat sr[4];
  for (int i = 0; i < 4; ++i) {
    if (static_cast<int64_t>(w_size) * h_size < min_size) {
      sr[i] = cv::Mat(s * h_size, s * w_size, CV_32SC4,
                      cv::Scalar(parts[i].x, parts[i].y, parts[i].width, parts[i].height));
    } else {
      sr[i] = reference_chop(parts[i], s, min_size, shave);
    }
  }
  cv::Mat out(s * h, s * w, CV_32SC4);
  const int H = s * h, W = s * w, hh = s * h_half, wh = s * w_half, hs = s * h_size,
            ws = s * w_size;
  sr[0](cv::Rect(0, 0, wh, hh)).copyTo(out(cv::Rect(0, 0, wh, hh)));
  sr[1](cv::Rect(ws - W + wh, 0, W - wh, hh)).copyTo(out(cv::Rect(wh, 0, W - wh, hh)));
  sr[2](cv::Rect(0, hs - H + hh, wh, H - hh)).copyTo(out(cv::Rect(0, hh, wh, H - hh)));
  sr[3](cv::Rect(ws - W + wh, hs - H + hh, W - wh, H - hh))
      .copyTo(out(cv::Rect(wh, hh, W - wh, H - hh)));
  return out;
}

void check_plan_matches_reference(cv::Size size, int s, int64_t min_size) {
  SCOPED_TRACE(std::to_string(size.width) + "x" + std::to_string(size.height) + " x" +
               std::to_string(s) + " min_size " + std::to_string(min_size));
  const cv::Mat expected = reference_chop(cv::Rect(cv::Point(0, 0), size), s, min_size);
  cv::Mat planned(expected.size(), CV_32SC4, cv::Scalar::all(-1));
  cv::Mat coverage(expected.size(), CV_32S, cv::Scalar(0));
  for (const auto& p : chop_pieces(size, s, min_size)) {
    const cv::Rect scaled(p.crop.x * s, p.crop.y * s, p.crop.width * s, p.crop.height * s);
    ASSERT_EQ(p.output & scaled, p.output) << "output outside its crop";
    planned(p.output).setTo(cv::Scalar(p.crop.x, p.crop.y, p.crop.width, p.crop.height));
    coverage(p.output) += 1;
  }
  EXPECT_EQ(cv::countNonZero(coverage != 1), 0) << "every output pixel from exactly one piece";
  cv::Mat diff = (expected != planned);
  EXPECT_EQ(cv::countNonZero(diff.reshape(1)), 0) << "a pixel from another crop than the reference";
}

TEST(ChopPlan, OneLevel) {
  check_plan_matches_reference({128, 96}, 2, 160000);
}
TEST(ChopPlan, OddSizes) {
  check_plan_matches_reference({131, 77}, 3, 160000);
}
TEST(ChopPlan, TwoLevels) {
  check_plan_matches_reference({700, 900}, 4, 160000);
}
TEST(ChopPlan, ManyLevels) {
  check_plan_matches_reference({1013, 517}, 2, 3000);
}
TEST(ChopPlan, NarrowStrip) {
  check_plan_matches_reference({2000, 25}, 2, 4000);
}

TEST(ChopPlan, SkipsPiecesWhoseOutputIsNeverUsed) {
  // Deeper levels of the reference run crops whose results are thrown away;
  // the plan does not.
  const auto pieces = chop_pieces({1013, 517}, 2, 3000);
  for (const auto& p : pieces) EXPECT_FALSE(p.output.empty());
}

TEST(ChopPlan, TinyImagesStillWork) {
  for (const cv::Size size : {cv::Size(1, 1), cv::Size(5, 19), cv::Size(19, 3)}) {
    int covered = 0;
    for (const auto& p : chop_pieces(size, 2, 160000)) covered += p.output.area();
    EXPECT_EQ(covered, size.area() * 4);
  }
}

TEST(ChopPlan, EndsEvenWithATinyThreshold) {
  const auto pieces = chop_pieces({64, 64}, 2, 1);
  EXPECT_FALSE(pieces.empty());
  for (const auto& p : pieces) EXPECT_LE(p.crop.width, 20);
}

// --- Auto mode ---------------------------------------------------------------

PlanRequest request(cv::Size size, Mode mode, std::size_t budget) {
  PlanRequest r;
  r.size = size;
  r.scale = 4;
  r.mode = mode;
  r.budget = budget;
  return r;
}

TEST(RunPlan, AutoIsWholeWhenItFits) {
  const auto plan = make_plan(request({200, 150}, Mode::Auto, std::size_t{8} << 30));
  EXPECT_EQ(plan.summary.mode, Mode::Whole);
  EXPECT_EQ(plan.summary.pieces, 1);
  EXPECT_LE(plan.summary.peak_bytes, std::size_t{8} << 30);
}

TEST(RunPlan, AutoSplitsToFitTheBudget) {
  const std::size_t budget = std::size_t{3} << 30;
  const auto plan = make_plan(request({4000, 3000}, Mode::Auto, budget));
  EXPECT_EQ(plan.summary.mode, Mode::Chop);
  EXPECT_GT(plan.summary.pieces, 4);
  EXPECT_LE(plan.summary.peak_bytes, budget);
  EXPECT_GT(make_plan(request({4000, 3000}, Mode::Whole, budget)).summary.peak_bytes, budget);
  // The threshold comes from the budget (larger than the reference's), and
  // the pieces are the quadrants of the first level that falls under it.
  EXPECT_GT(plan.min_size, kReferenceChopMinSize);
  EXPECT_LT(plan.summary.largest_piece, plan.min_size);
}

TEST(RunPlan, ChopIsTheReference) {
  const auto plan = make_plan(request({1000, 800}, Mode::Chop, 0));
  EXPECT_EQ(plan.min_size, kReferenceChopMinSize);
  EXPECT_LT(plan.summary.largest_piece, kReferenceChopMinSize);
}

TEST(RunPlan, AutoRefusesAnImpossibleBudget) {
  EXPECT_THROW(make_plan(request({4000, 3000}, Mode::Auto, std::size_t{256} << 20)),
               InsufficientMemory);
}

// The figure --max-memory is checked against: images up to 64x64 run in it,
// and a 64x64 one fails in 1 MiB less.
TEST(RunPlan, TheLeastBudgetIsTheEdge) {
  for (const Path path : kPaths) {
    for (const int scale : {2, 3, 4}) {
      SCOPED_TRACE(testing::Message() << to_string(path) << " x" << scale);
      const std::size_t least = least_memory_budget(path, scale);
      EXPECT_EQ(least % (std::size_t{1} << 20), 0u);
      for (const cv::Size size : {cv::Size{8, 8}, cv::Size{40, 64}, cv::Size{64, 64}}) {
        SCOPED_TRACE(size);
        PlanRequest r = request(size, Mode::Auto, least);
        r.scale = scale;
        r.path = path;
        EXPECT_NO_THROW(make_plan(r));
      }
      PlanRequest r = request({64, 64}, Mode::Auto, least - (std::size_t{1} << 20));
      r.scale = scale;
      r.path = path;
      EXPECT_THROW(make_plan(r), InsufficientMemory);
    }
  }
}

}  // namespace
}  // namespace fdiwn::test
