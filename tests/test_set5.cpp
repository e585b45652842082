// The whole network on Set5, in both modes, against the authors' outputs.
#include <map>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "fdiwn/upscaler.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

const Upscaler& upscaler(int scale) {
  static std::map<int, std::unique_ptr<Upscaler>> cache;
  auto& up = cache[scale];
  if (!up) {
    UpscalerOptions options;
    options.scale = scale;
    options.weights_path = weights_path(scale);
    up = std::make_unique<Upscaler>(options);
  }
  return *up;
}

struct Case {
  int scale;
  Mode mode;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << "x" << c.scale << " " << to_string(c.mode);
}

class Set5Parity : public ::testing::TestWithParam<Case> {};

TEST_P(Set5Parity, EveryImageMatchesGolden) {
  const auto [scale, mode] = GetParam();
  const std::string mode_name = to_string(mode);
  for (const auto& name : set5_names()) {
    SCOPED_TRACE("x" + std::to_string(scale) + " " + mode_name + " " + name);
    const cv::Mat lr =
        cv::imread(data_path("Set5/LR/x" + std::to_string(scale) + "/" + name + ".png"));
    const cv::Mat golden = cv::imread(
        data_path("golden/Set5/x" + std::to_string(scale) + "/" + mode_name + "/" + name + ".png"));
    ASSERT_FALSE(lr.empty());
    ASSERT_FALSE(golden.empty());
    const cv::Mat sr = upscaler(scale).upscale(lr, mode);
    const auto agreement = compare_images(sr, golden);
    std::printf("x%d %-5s %-9s max |diff| %d, identical %.4f%%\n", scale, mode_name.c_str(),
                name.c_str(), agreement.max_abs_diff, agreement.identical_share * 100);
    EXPECT_TRUE(images_match(sr, golden));
  }
}

INSTANTIATE_TEST_SUITE_P(AllScales, Set5Parity,
                         ::testing::Values(Case{2, Mode::Whole}, Case{2, Mode::Chop},
                                           Case{3, Mode::Whole}, Case{3, Mode::Chop},
                                           Case{4, Mode::Whole}, Case{4, Mode::Chop}),
                         [](const auto& info) {
                           return "x" + std::to_string(info.param.scale) + "_" +
                                  to_string(info.param.mode);
                         });

}  // namespace
}  // namespace fdiwn::test
