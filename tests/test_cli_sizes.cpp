// Any output size through the command: --outscale, --width, --height give
// exactly the size asked for, and the JSON says which passes ran.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include "cli_files.hpp"
#include "cli_runner.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

void expect_size(const std::vector<std::string>& size_args, cv::Size expected, int passes,
                 bool resized) {
  SCOPED_TRACE(size_args[0] + " " + size_args[1]);
  TempDir dir;
  write_image(dir.file("in.png"), picture(40, 30, CV_8UC3));
  std::vector<std::string> args = {"upscale",           "-i",    dir.file("in.png"), "-o",
                                   dir.file("out.png"), "--json"};
  args.insert(args.end(), size_args.begin(), size_args.end());
  const CliResult r = run_fdiwn(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_unchanged(dir.file("out.png")).size(), expected);
  const auto file = file_record(parse_json(r), "in.png");
  EXPECT_EQ(file.at("network_passes"), passes);
  EXPECT_EQ(file.at("resized"), resized);
  EXPECT_EQ(file.at("output_size").at("width"), expected.width);
}

TEST(OutputSizes, ExactAndTheirPassesSaid) {
  expect_size({"--outscale", "1.5"}, {60, 45}, 1, true);
  expect_size({"--outscale", "8"}, {320, 240}, 2, true);  // x3 twice, then down
  expect_size({"--outscale", "3"}, {120, 90}, 1, false);
  expect_size({"--width", "500"}, {500, 375}, 2, true);  // x4 twice: 160 is not enough
  expect_size({"--height", "100"}, {133, 100}, 1, true);
}

TEST(OutputSizes, ConflictsAndLimitsAreUsageErrors) {
  TempDir dir;
  write_image(dir.file("in.png"), picture(40, 30, CV_8UC3));
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--outscale", "3", "-s", "2"},
        std::vector<std::string>{"--outscale", "17"}, std::vector<std::string>{"--outscale", "0.5"},
        std::vector<std::string>{"--outscale", "2", "--width", "100"},
        std::vector<std::string>{"--width", "0"}}) {
    std::vector<std::string> args = {"upscale", "-i", dir.file("in.png"), "-o",
                                     dir.file("out.png")};
    args.insert(args.end(), extra.begin(), extra.end());
    const CliResult r = run_fdiwn(args);
    EXPECT_EQ(r.exit_code, 2) << extra[0] << " " << extra[1] << ": " << r.err;
  }
  // More than two passes reach: that file fails, naming the reason.
  const CliResult r = run_fdiwn({"upscale", "-i", dir.file("in.png"), "-o", dir.file("big.png"),
                                 "-s", "2", "--width", "1000"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("two passes"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace fdiwn::test
