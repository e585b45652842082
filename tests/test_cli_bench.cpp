// `fdiwn bench` and `fdiwn metrics` reproduce the paper's Set5 numbers.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cli_files.hpp"
#include "cli_runner.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;

struct Expected {
  double psnr, ssim;
};

// The authors' network on Set5 in the Matlab protocol
// (the evaluation notes of the shared project material): chop rounds to the
// paper's table.
const std::map<int, Expected> kChop = {
    {2, {38.0666, 0.9608}}, {3, {34.5195, 0.9281}}, {4, {32.2267, 0.8955}}};
const std::map<int, Expected> kWhole = {
    {2, {38.0583, 0.9607}}, {3, {34.5120, 0.9280}}, {4, {32.2168, 0.8954}}};

nlohmann::json read_json(const std::string& path) {
  return nlohmann::json::parse(read_file(path));
}

void expect_means(const nlohmann::json& doc, const std::map<int, Expected>& expected) {
  ASSERT_EQ(doc.at("runs").size(), expected.size());
  for (const auto& run : doc.at("runs")) {
    const int scale = run.at("scale");
    SCOPED_TRACE("x" + std::to_string(scale));
    const auto& mean = run.at("mean");
    EXPECT_EQ(mean.at("count"), 5);
    EXPECT_NEAR(mean.at("psnr").get<double>(), expected.at(scale).psnr, 0.0005);
    EXPECT_NEAR(mean.at("ssim").get<double>(), expected.at(scale).ssim, 0.00005);
    std::printf("x%d PSNR %.6f SSIM %.6f\n", scale, mean.at("psnr").get<double>(),
                mean.at("ssim").get<double>());
  }
}

// HR/x4 holds the mod-4 crops; bench mod-crops them for x2 and x3 again,
// which gives the x2 and x3 HR images of the data set.
const std::string kHr = data_path("Set5/HR/x4");
const std::string kLr = data_path("Set5/LR/x{scale}");

TEST(Bench, Set5ChopReproducesThePaper) {
  TempDir dir;
  const auto r = run_fdiwn({"bench", "--hr", kHr, "--lr", kLr, "-s", "2", "-s", "3", "-s", "4",
                            "--json", dir.file("s.json"), "--csv", dir.file("s.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_means(read_json(dir.file("s.json")), kChop);
  EXPECT_NE(r.out.find("mean of 5"), std::string::npos) << r.out;
  EXPECT_NE(read_file(dir.file("s.csv")).find("butterfly"), std::string::npos);
}

TEST(Bench, Set5WholeImage) {
  TempDir dir;
  const auto r = run_fdiwn({"bench", "--hr", kHr, "--lr", kLr, "-s", "4", "--mode", "whole",
                            "--json", dir.file("s.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_means(read_json(dir.file("s.json")), {{4, kWhole.at(4)}});
}

TEST(Bench, Set5WholeImageOnThePlainPathGivesTheSameNumbers) {
  TempDir dir;
  const auto r = run_fdiwn({"bench", "--hr", kHr, "--lr", kLr, "-s", "4", "--mode", "whole",
                            "--path", "plain", "--json", dir.file("s.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_means(read_json(dir.file("s.json")), {{4, kWhole.at(4)}});
}

// --repeat 0 (first passes only) and 2 (both orders of a pair).
void expect_speed_table(const std::string& repeat) {
  SCOPED_TRACE("--repeat " + repeat);
  TempDir dir;
  const auto r = run_fdiwn({"bench", "--speed", "-s", "2", "--sizes", "40x24", "--repeat", repeat,
                            "-j", "2", "--json", dir.file("speed.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto doc = read_json(dir.file("speed.json"));
  ASSERT_EQ(doc.at("cases").size(), 3u) << doc.dump(2);
  std::map<std::string, int> seen;
  for (const auto& c : doc.at("cases")) {
    const std::string key =
        c.at("path").get<std::string>() + "/" + std::to_string(c.at("threads").get<int>());
    SCOPED_TRACE(key);
    ++seen[key];
    EXPECT_GT(c.at("median_ms").get<double>(), 0);
    EXPECT_GT(c.at("macs_per_pixel").get<int64_t>(), 1000000);
    if (key == "engine/1") {
      // Timed in the engine/2 case's process, alternating with its passes.
      EXPECT_EQ(c.at("paired_with_threads"), 2);
      EXPECT_GT(c.at("vs_one_thread").get<double>(), 0);
      EXPECT_FALSE(c.contains("peak_rss_mib"));
    } else {
      EXPECT_GT(c.at("peak_rss_mib").get<double>(), 0);
    }
  }
  EXPECT_EQ(seen, (std::map<std::string, int>{{"plain/2", 1}, {"engine/2", 1}, {"engine/1", 1}}));
  EXPECT_NE(r.out.find("vs 1 thr"), std::string::npos) << r.out;
}

TEST(BenchSpeed, TimesTheEngineAgainstThePlainPathAndOneThread) {
  expect_speed_table("0");
  expect_speed_table("2");
}

// The efficiency report: counts from the loaded network (the same as `info`
// prints), totals for the size, runtime mean and spread of the passes.
TEST(BenchEfficiency, ReportsCountsMemoryAndRuntime) {
  TempDir dir;
  const auto r = run_fdiwn({"bench", "--efficiency", "-s", "4", "--sizes", "32x24", "--repeat", "3",
                            "--json", dir.file("e.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto doc = read_json(dir.file("e.json"));
  EXPECT_EQ(doc.at("repeat"), 3);
  ASSERT_EQ(doc.at("efficiency").size(), 1u) << doc.dump(2);
  const auto& e = doc.at("efficiency")[0];
  const auto info = run_fdiwn({"info"});
  EXPECT_NE(info.out.find("663,848 parameters"), std::string::npos) << info.out;
  EXPECT_EQ(e.at("parameters").get<int64_t>(), 663848);
  EXPECT_NE(info.out.find("1,236,321 multiply-adds per LR pixel"), std::string::npos) << info.out;
  EXPECT_EQ(e.at("macs_per_pixel").get<int64_t>(), 1236321);
  EXPECT_EQ(e.at("macs").get<int64_t>(), 1236321LL * 32 * 24);
  EXPECT_GT(e.at("activations_per_pixel").get<int64_t>(), 10000);
  EXPECT_EQ(e.at("activations").get<int64_t>(),
            e.at("activations_per_pixel").get<int64_t>() * 32 * 24);
  EXPECT_GT(e.at("mean_ms").get<double>(), 0);
  EXPECT_GE(e.at("sd_ms").get<double>(), 0);
  EXPECT_GE(e.at("peak_rss_mib").get<int64_t>(), e.at("pass_mib").get<int64_t>());
  EXPECT_NE(r.out.find("\xC2\xB1"), std::string::npos) << r.out;  // "mean ± sd"
}

TEST(BenchEfficiency, IsNotAlsoTheSpeedTable) {
  const auto r = run_fdiwn({"bench", "--efficiency", "--speed", "-s", "2"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--speed and --efficiency"), std::string::npos) << r.err;
}

// Found by hand: bench --speed with --hr and --csv timed synthetic images
// and wrote no CSV, and scoring with --sizes ignored it, all without a word.
TEST(Bench, OptionsTheModeDoesNotReadAreRefused) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const std::string& hr = kHr;
  const std::vector<Case> cases = {
      {{"--speed", "--hr", hr}, "bench --speed times synthetic images"},
      {{"--speed", "--csv", "s.csv"}, "; --csv does not apply"},
      {{"--speed", "--save-sr", "sr"}, "; --save-sr does not apply"},
      {{"--speed", "-x"}, "; --tta does not apply"},
      {{"--speed", "--path", "plain"}, "the paths --paths names; --path does not apply"},
      {{"--efficiency", "--paths", "plain"}, "--efficiency measures the network on --path"},
      {{"--efficiency", "-m", "whole"}, "; --mode does not apply"},
      {{"--hr", hr, "--sizes", "64x64"}, "bench scores test sets at their images' sizes"},
      {{"--hr", hr, "--repeat", "3"}, "; --repeat does not apply"},
      {{"--merge", "a.json", "-s", "2"}, "--merge combines results already scored; --scale"},
      {{"--merge", "a.json", "--crop-border", "3"}, "; --crop-border does not apply"},
      {{"--merge", "a.json", "--rgb"}, "; --rgb does not apply"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {"bench"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    if (argv[1] != "--merge" && std::find(argv.begin(), argv.end(), "-s") == argv.end()) {
      argv.insert(argv.end(), {"-s", "2"});
    }
    SCOPED_TRACE(argv[1] + " " + argv[2]);
    expect_error(run_fdiwn(argv), 2, c.message);
  }
}

// Found by hand: "32x32," passed, and "--paths engine,engine" timed the
// engine twice.
TEST(BenchSpeed, ListsWithAnEmptyOrRepeatedItemAreUsageErrors) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  for (const Case& c : {Case{{"--speed", "--sizes", "32x32,"}, "--sizes '32x32,': an empty item"},
                        Case{{"--speed", "--sizes", "32x32,,16x16"}, "an empty item"},
                        Case{{"--speed", "--paths", "engine,engine"}, "engine is given twice"},
                        Case{{"--efficiency", "--sizes", "32x32,32x32"}, "32x32 is given twice"}}) {
    std::vector<std::string> argv = {"bench", "-s", "2"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    SCOPED_TRACE(c.args[0] + " " + c.args[2]);
    expect_error(run_fdiwn(argv), 2, c.message);
  }
}

TEST(BenchSpeed, SizesTooLargeAreUsageErrors) {
  // Found by hand: 2147483647x1 crashed the benchmark's process, 2^30x1
  // ended in an OpenCV assertion.
  for (const char* size : {"2147483647x1", "1x1073741824", "65536x2", "20000x20000"}) {
    for (const char* mode : {"--speed", "--efficiency"}) {
      SCOPED_TRACE(std::string(mode) + " " + size);
      const auto r = run_fdiwn({"bench", mode, "-s", "2", "--sizes", size});
      EXPECT_EQ(r.exit_code, 2) << r.err;
      EXPECT_NE(r.err.find("is too large to benchmark"), std::string::npos) << r.err;
    }
  }
}

TEST(Bench, LowResolutionMadeByTheToolGivesTheSameNumbers) {
  TempDir dir;
  const auto r = run_fdiwn(
      {"bench", "--hr", kHr, "-s", "4", "--json", dir.file("s.json"), "--save-sr", dir.file("sr")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_means(read_json(dir.file("s.json")), {{4, kChop.at(4)}});
  EXPECT_EQ(cv::imread(dir.file("sr/x4/baby.png")).size(), cv::Size(512, 512));
}

TEST(Metrics, GoldenChopImagesScoreAsInThePaper) {
  TempDir dir;
  const auto r = run_fdiwn({"metrics", "--hr", kHr, "--sr", data_path("golden/Set5/x4/chop"), "-s",
                            "4", "--json", dir.file("m.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_means(read_json(dir.file("m.json")), {{4, kChop.at(4)}});
}

TEST(Metrics, PairsBySuffixAndRefusesSizeMismatch) {
  TempDir dir;
  fs::create_directories(dir.file("sr"));
  // The usual suffixes pair up; a wrong-size image fails alone.
  fs::copy_file(data_path("golden/Set5/x4/chop/bird.png"), dir.file("sr/bird_x4_SR.png"));
  fs::copy_file(data_path("golden/Set5/x4/chop/head.png"), dir.file("sr/head_LRBI_x4.png"));
  // x3 output: 510x510, against a 512x512 HR.
  fs::copy_file(data_path("golden/Set5/x3/chop/baby.png"), dir.file("sr/baby.png"));
  fs::create_directories(dir.file("hr"));
  for (const char* n : {"bird", "head", "baby"}) {
    fs::copy_file(kHr + "/" + n + ".png", dir.file(std::string("hr/") + n + "_HR.png"));
  }
  const auto r = run_fdiwn({"metrics", "--hr", dir.file("hr"), "--sr", dir.file("sr"), "-s", "4",
                            "--json", dir.file("m.json")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto doc = read_json(dir.file("m.json"));
  EXPECT_EQ(doc.at("runs")[0].at("mean").at("count"), 2);
  EXPECT_NE(r.err.find(dir.file("sr/baby.png")), std::string::npos) << r.err;
}

// Found by hand: in an SR folder readable but not searchable, each image was
// "Permission denied, not an image file; left out", then blamed on pairing.
TEST(Metrics, ImagesThatCannotBeLookedAtFailWithTheReason) {
  TempDir dir;
  fs::create_directories(dir.file("sr"));
  fs::create_directories(dir.file("hr"));
  for (const char* n : {"bird", "head"}) {
    fs::copy_file(data_path(std::string("golden/Set5/x4/chop/") + n + ".png"),
                  dir.file(std::string("sr/") + n + ".png"));
    fs::copy_file(kHr + "/" + n + ".png", dir.file(std::string("hr/") + n + ".png"));
  }
  make_accessible(dir.path());
  ::chmod(dir.file("sr").c_str(), 0444);
  CliOptions as_user;
  as_user.unprivileged = true;
  const auto r =
      run_fdiwn({"metrics", "--hr", dir.file("hr"), "--sr", dir.file("sr"), "-s", "4"}, as_user);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("error: " + dir.file("sr/bird.png") + ": Permission denied"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("not an image file"), std::string::npos) << r.err;
}

TEST(Metrics, UnpairedHighResolutionImageFailsAlone) {
  // A method's folder without an image: that image's failure (exit 1), the
  // others scored; never a silently shorter mean.
  TempDir dir;
  fs::create_directories(dir.file("sr"));
  fs::copy_file(data_path("golden/Set5/x4/chop/bird.png"), dir.file("sr/bird.png"));
  const auto r = run_fdiwn({"metrics", "--hr", kHr, "--sr", dir.file("sr"), "-s", "4"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(kHr + "/baby.png: no image in " + dir.file("sr")), std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("mean of 1"), std::string::npos) << r.out;
}

TEST(Bench, UnpairedHighResolutionImageFailsAlone) {
  // As in metrics (found by hand: one missing LR image refused the whole
  // run, and nothing was scored).
  TempDir dir;
  fs::create_directories(dir.file("lr"));
  fs::copy_file(data_path("Set5/LR/x4/bird.png"), dir.file("lr/bird.png"));
  const auto r = run_fdiwn({"bench", "--hr", kHr, "--lr", dir.file("lr"), "-s", "4"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(kHr + "/baby.png: no image in " + dir.file("lr") + " pairs with it"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("mean of 1"), std::string::npos) << r.out;
  // Its row merges (found in review: its empty LR name read as "made from
  // its HR image", and --merge refused the run as two).
  const auto json = run_fdiwn({"bench", "--hr", kHr, "--lr", dir.file("lr"), "-s", "4", "--json",
                               dir.file("b.json"), "-q"});
  ASSERT_EQ(json.exit_code, 1) << json.err;
  const auto merged = run_fdiwn({"bench", "--merge", dir.file("b.json")});
  EXPECT_NE(merged.exit_code, 2) << merged.err;
  EXPECT_EQ(merged.err.find("results of different runs"), std::string::npos) << merged.err;
  // No image pairs at all: a wrong folder, a usage error.
  fs::create_directories(dir.file("wrong"));
  fs::copy_file(data_path("Set5/LR/x4/bird.png"), dir.file("wrong/zebra.png"));
  const auto wrong = run_fdiwn({"bench", "--hr", kHr, "--lr", dir.file("wrong"), "-s", "4"});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
  EXPECT_NE(wrong.err.find(dir.file("wrong") + ": no image in it pairs with one in " + kHr),
            std::string::npos)
      << wrong.err;
}

TEST(Metrics, HugeCropBorderFailsEachImageWithItsReason) {
  // Found by hand: twice 2147483647 overflowed int, and metrics crashed.
  for (const char* border : {"2147483647", "1073741824"}) {
    SCOPED_TRACE(border);
    const auto r = run_fdiwn({"metrics", "--hr", kHr, "--sr", data_path("golden/Set5/x4/chop"),
                              "-s", "4", "--crop-border", border});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("pixels from each border leaves nothing to score"), std::string::npos)
        << r.err;
  }
}

}  // namespace
}  // namespace fdiwn::test
