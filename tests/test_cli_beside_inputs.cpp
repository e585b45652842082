// Outputs written beside their inputs (-i d -o d): a re-run recognises the
// earlier run's outputs by evidence (name, folder and size) and leaves them
// out as inputs; any other file an output would replace is protected; names
// say the output's factor.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_files.hpp"
#include "cli_runner.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;

TEST(BesideInputs, RerunBesideItsInputsSkipsItsOwnOutputs) {
  TempDir dir;
  noise_image(dir, "d/a.png");
  noise_image(dir, "d/b.png");
  const std::vector<std::string> cmd = {"upscale", "-i", dir.file("d"), "-o",     dir.file("d"),
                                        "-s",      "2",  "-r",          "--name", "{name}_x2.{ext}",
                                        "--json"};
  ASSERT_EQ(run_fdiwn(cmd).exit_code, 0);
  const auto again = run_fdiwn(cmd);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto doc = nlohmann::json::parse(again.out);
  EXPECT_EQ(doc.at("skipped"), 2);
  EXPECT_EQ(doc.at("done"), 0);
  EXPECT_FALSE(fs::exists(dir.file("d/a_x2_x2.png")));
}

// Found by hand: a file named as another input's output was taken for that
// output on its name alone, left out as an input, then replaced.
TEST(BesideInputs, OnlyAFileOfTheOutputsSizeIsTakenForAnEarlierOutput) {
  TempDir dir;
  noise_image(dir, "d/a.png");
  const std::string own = noise_image(dir, "d/a.webp");  // the size of a.png: not its x2 result
  const std::string before = read_file(own);
  for (const char* overwrite : {"-v", "--overwrite"}) {
    SCOPED_TRACE(overwrite);
    expect_error(run_fdiwn({"upscale", "-i", dir.file("d"), "-o", dir.file("d"), "-f", "webp", "-s",
                            "2", overwrite}),
                 2, "would overwrite the input " + own);
    EXPECT_EQ(read_file(own), before);
  }
  // Another input reached through a link in the output folder.
  noise_image(dir, "l/a.png");
  noise_image(dir, "l/b.png");
  fs::create_directories(dir.file("l2"));
  fs::create_symlink("../l/a.png", dir.file("l2/b.png"));
  const std::string a = read_file(dir.file("l/a.png"));
  expect_error(
      run_fdiwn({"upscale", "-i", dir.file("l"), "-o", dir.file("l2"), "-s", "2", "--overwrite"}),
      2, "would overwrite the input " + dir.file("l/a.png"));
  EXPECT_EQ(read_file(dir.file("l/a.png")), a);
}

TEST(BesideInputs, TheScaleInANameIsTheOutputs) {
  // Found by hand: --outscale 6 named its files x3, the network's scale.
  TempDir dir;
  noise_image(dir, "in/a.png");
  const auto r = run_fdiwn({"upscale", "-i", dir.file("in"), "-o", dir.file("out"), "--outscale",
                            "1.5", "--name", "{name}_x{scale}.{ext}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir.file("out/a_x1.5.png")));
  expect_error(run_fdiwn({"upscale", "-i", dir.file("in"), "-o", dir.file("out2"), "--width", "40",
                          "--name", "{name}_x{scale}.{ext}"}),
               2, "{scale} differs from image to image with --width or --height");
}

// Found in review: a .jpg sorted before its .png kept the output's name for
// itself, and the re-run with -f jpg was refused.
TEST(BesideInputs, RerunThatChangesTheFormatSkipsItsOwnOutputs) {
  TempDir dir;
  noise_image(dir, "d/a.png");
  const std::vector<std::string> cmd = {"upscale", "-i",  dir.file("d"), "-o", dir.file("d"),
                                        "-f",      "jpg", "-s",          "2",  "--json"};
  ASSERT_EQ(run_fdiwn(cmd).exit_code, 0);
  const auto again = run_fdiwn(cmd);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out).at("skipped"), 1);
  EXPECT_NE(again.err.find(dir.file("d/a.jpg") + ": is the output of " + dir.file("d/a.png")),
            std::string::npos)
      << again.err;
}

}  // namespace
}  // namespace fdiwn::test
