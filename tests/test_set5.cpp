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

const Upscaler& upscaler(int scale, Path path) {
  static std::map<std::pair<int, Path>, std::unique_ptr<Upscaler>> cache;
  auto& up = cache[{scale, path}];
  if (!up) {
    UpscalerOptions options;
    options.scale = scale;
    options.weights_path = weights_path(scale);
    options.path = path;
    up = std::make_unique<Upscaler>(options);
  }
  return *up;
}

struct Case {
  int scale;
  Mode mode;
  Path path;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << "x" << c.scale << " " << to_string(c.mode) << " " << to_string(c.path);
}

class Set5Parity : public ::testing::TestWithParam<Case> {};

TEST_P(Set5Parity, EveryImageMatchesGolden) {
  const auto [scale, mode, path] = GetParam();
  const std::string mode_name = to_string(mode);
  for (const auto& name : set5_names()) {
    SCOPED_TRACE("x" + std::to_string(scale) + " " + mode_name + " " + name);
    const cv::Mat lr =
        cv::imread(data_path("Set5/LR/x" + std::to_string(scale) + "/" + name + ".png"));
    const cv::Mat golden = cv::imread(
        data_path("golden/Set5/x" + std::to_string(scale) + "/" + mode_name + "/" + name + ".png"));
    ASSERT_FALSE(lr.empty());
    ASSERT_FALSE(golden.empty());
    const cv::Mat sr = upscaler(scale, path).upscale(lr, mode);
    const auto agreement = compare_images(sr, golden);
    std::printf("x%d %-5s %-9s %-9s max |diff| %d, identical %.4f%%\n", scale, mode_name.c_str(),
                to_string(path), name.c_str(), agreement.max_abs_diff,
                agreement.identical_share * 100);
    EXPECT_TRUE(images_match(sr, golden));
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (int scale : {2, 3, 4}) {
    for (Mode mode : {Mode::Whole, Mode::Chop}) {
      for (Path path : {Path::Engine, Path::Plain}) cases.push_back({scale, mode, path});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllScales, Set5Parity, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) {
                           return "x" + std::to_string(info.param.scale) + "_" +
                                  to_string(info.param.mode) + "_" + to_string(info.param.path);
                         });

}  // namespace
}  // namespace fdiwn::test
