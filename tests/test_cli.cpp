// The fdiwn command, run as a user would: outputs, exit codes, messages.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "cli_runner.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

std::string lr_path(int scale, const std::string& name) {
  return data_path("Set5/LR/x" + std::to_string(scale) + "/" + name + ".png");
}

class CliSet5 : public ::testing::TestWithParam<int> {};

// The acceptance check: `fdiwn upscale` in chop mode on each Set5 LR
// image reproduces the authors' chop output.
TEST_P(CliSet5, ChopReproducesGolden) {
  const int scale = GetParam();
  TempDir dir;
  for (const auto& name : set5_names()) {
    SCOPED_TRACE("x" + std::to_string(scale) + " " + name);
    const std::string out = dir.file(name + ".png");
    const auto r = run_fdiwn({"upscale", "-i", lr_path(scale, name), "-o", out, "-s",
                              std::to_string(scale), "--mode", "chop"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const cv::Mat golden =
        cv::imread(data_path("golden/Set5/x" + std::to_string(scale) + "/chop/" + name + ".png"));
    EXPECT_TRUE(images_match(cv::imread(out), golden));
  }
}

INSTANTIATE_TEST_SUITE_P(AllScales, CliSet5, ::testing::Values(2, 3, 4),
                         [](const auto& info) { return "x" + std::to_string(info.param); });

TEST(Cli, DefaultWeightsAreFoundFromAnyDirectory) {
  TempDir dir;
  const auto r = run_fdiwn({"upscale", "-i", lr_path(4, "bird"), "-o", "out.png", "-s", "4"},
                           /*cwd=*/dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(cv::imread(dir.file("out.png")).size(), cv::Size(288, 288));
}

TEST(Cli, BadScaleIsAUsageError) {
  TempDir dir;
  const auto r =
      run_fdiwn({"upscale", "-i", lr_path(2, "bird"), "-o", dir.file("o.png"), "-s", "5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("5"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("o.png")));
}

TEST(Cli, MissingInputIsAUsageError) {
  TempDir dir;
  const auto r = run_fdiwn({"upscale", "-i", dir.file("nope.png"), "-o", dir.file("o.png")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(dir.file("nope.png")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no such file"), std::string::npos) << r.err;
  // Found by hand: a file named as a folder failed as an unreadable file
  // (exit 1), after the weights were loaded.
  write_file(dir.file("a.png"), "x");
  for (const char* through : {"a.png/", "a.png/b.png"}) {
    SCOPED_TRACE(through);
    const auto bad = run_fdiwn({"upscale", "-i", dir.file(through), "-o", dir.file("o.png")});
    EXPECT_EQ(bad.exit_code, 2) << bad.err;
    EXPECT_NE(bad.err.find(std::string(through) +
                           ": no such file or folder (a part of the path is a file)"),
              std::string::npos)
        << bad.err;
  }
}

TEST(Cli, RefusesToOverwriteItsInput) {
  TempDir dir;
  const std::string in = dir.file("in.png");
  std::filesystem::copy_file(lr_path(4, "head"), in);
  const std::string before = read_file(in);
  const auto r = run_fdiwn({"upscale", "-i", in, "-o", in});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("input"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(in), before);
}

TEST(Cli, BrokenWeightsExitWithThree) {
  TempDir dir;
  const std::string weights = dir.file("w.pt");
  write_file(weights, "not weights");
  const auto r = run_fdiwn({"upscale", "-i", lr_path(2, "bird"), "-o", dir.file("o.png"), "-s", "2",
                            "--weights", weights});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find(weights), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("o.png")));
}

TEST(Cli, WeightsForAnotherScaleExitWithThree) {
  TempDir dir;
  const auto r = run_fdiwn({"upscale", "-i", lr_path(2, "bird"), "-o", dir.file("o.png"), "-s", "2",
                            "--weights", weights_path(4)});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("for x4, not x2"), std::string::npos) << r.err;
}

TEST(Cli, UndecodableInputFailsWithoutOutput) {
  TempDir dir;
  const std::string in = dir.file("text.png");
  write_file(in, "hello\n");
  const auto r = run_fdiwn({"upscale", "-i", in, "-o", dir.file("o.png"), "-s", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(in), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("o.png")));
}

TEST(Cli, UnwritableOutputFolderFailsCleanly) {
  // A folder that cannot exist because a file holds its name (permissions
  // would not stop root, who runs CI).
  TempDir dir;
  write_file(dir.file("file"), "x");
  const std::string out = dir.file("file/o.png");
  const auto r = run_fdiwn({"upscale", "-i", lr_path(2, "bird"), "-o", out, "-s", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir.file("file") + ": cannot create the output folder"), std::string::npos)
      << r.err;
  // A dangling link where the folder would be: named (found by hand: "File
  // exists").
  ASSERT_EQ(::symlink("nowhere", dir.file("dangling").c_str()), 0);
  const auto d =
      run_fdiwn({"upscale", "-i", lr_path(2, "bird"), "-o", dir.file("dangling/"), "-s", "2"});
  EXPECT_EQ(d.exit_code, 1);
  EXPECT_NE(d.err.find("dangling: is a dangling symbolic link"), std::string::npos) << d.err;
}

TEST(Cli, HelpListsExitCodes) {
  const auto r = run_fdiwn({"upscale", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << r.out;
}

TEST(Cli, AnUnknownCommandIsNamed) {
  // Found by hand: `fdiwn bogus` said only "A subcommand is required".
  const auto r = run_fdiwn({"-v", "bogus", "-i", "x.png"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'bogus' (the commands: upscale, bench, metrics, info)"),
            std::string::npos)
      << r.err;
  // Errors inside a command are the command's own.
  const auto inside = run_fdiwn({"upscale", "--bogus"});
  EXPECT_EQ(inside.exit_code, 2);
  EXPECT_EQ(inside.err.find("unknown command"), std::string::npos) << inside.err;
  EXPECT_NE(run_fdiwn({"-v"}).err.find("A subcommand is required"), std::string::npos);
}

}  // namespace
}  // namespace fdiwn::test
