// `fdiwn upscale` on folders: permissions, skip/overwrite, naming, side by
// side, --json, and interrupted batches that leave no partial file.
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cli_files.hpp"
#include "cli_runner.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;

// --- Permissions (as an unprivileged user when the tests run as root) --------

TEST(CliPermissions, UnreadableFileFailsAndOthersGoOn) {
  TempDir dir;
  const std::string in = dir.file("in");
  fs::create_directories(in);
  write_image(in + "/a.png", picture(16, 12, CV_8UC3));
  write_image(in + "/secret.png", picture(16, 12, CV_8UC3));
  make_accessible(dir.path());
  ::chmod((in + "/secret.png").c_str(), 0000);
  CliOptions as_user;
  as_user.unprivileged = true;
  const auto r = run_fdiwn({"upscale", "-i", in, "-o", dir.file("out"), "-s", "2"}, as_user);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("secret.png: cannot open: Permission denied"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir.file("out/a.png")));
  EXPECT_FALSE(fs::exists(dir.file("out/secret.png")));
}

// Found by hand: a folder that could not be listed (or whose entries could
// not be looked at: read but no search permission) lost its images with a
// warning and exit 0, and --json had no entry for it; an input folder that
// could not be listed stopped the whole run (exit 2).
TEST(CliPermissions, WhatCannotBeReadInAFolderFailsTheRunAndOthersGoOn) {
  struct Case {
    const char* name;
    const char* locked;  // made unreadable
    ::mode_t mode;
    const char* message;  // after the locked path
  };
  for (const Case& c :
       {Case{"sub-folder not listable", "in/locked", 0000,
             ": cannot list the folder: Permission denied; the images in it were not upscaled"},
        Case{"sub-folder not searchable", "in/locked", 0444,
             "/b.png: cannot tell what it is: Permission denied; if it is an image, it was not "
             "upscaled"},
        Case{"input folder not listable", "in", 0000, ": cannot list the folder"}}) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const std::string in = dir.file("in");
    fs::create_directories(in + "/locked");
    write_image(in + "/a.png", picture(16, 12, CV_8UC3));
    write_image(in + "/locked/b.png", picture(16, 12, CV_8UC3));
    write_image(dir.file("c.png"), picture(16, 12, CV_8UC3));
    make_accessible(dir.path());
    ::chmod(dir.file(c.locked).c_str(), c.mode);
    CliOptions as_user;
    as_user.unprivileged = true;
    const auto r = run_fdiwn(
        {"upscale", "-i", in, dir.file("c.png"), "-o", dir.file("out"), "-r", "-s", "2", "--json"},
        as_user);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(dir.file(c.locked) + c.message), std::string::npos) << r.err;
    EXPECT_TRUE(fs::exists(dir.file("out/c.png")));  // the other input goes on
    const auto doc = parse_json(r);
    EXPECT_EQ(doc.value("failed", -1), 1);
    EXPECT_EQ(doc.value("exit_code", -1), 1);
    ASSERT_FALSE(doc.at("files").empty());
    EXPECT_EQ(doc.at("files")[0].value("status", ""), "failed");
    EXPECT_TRUE(doc.at("files")[0].at("output").is_null());
  }
}

TEST(CliPermissions, ReadOnlyOutputFolderFailsBeforeAnyWork) {
  TempDir dir;
  write_image(dir.file("a.png"), picture(16, 12, CV_8UC3));
  fs::create_directories(dir.file("locked"));
  make_accessible(dir.path());
  ::chmod(dir.file("locked").c_str(), 0555);
  CliOptions as_user;
  as_user.unprivileged = true;
  const auto r = run_fdiwn(
      {"upscale", "-i", dir.file("a.png"), "-o", dir.file("locked/sub/"), "-s", "2"}, as_user);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("locked/sub: cannot create the output folder"), std::string::npos) << r.err;
}

// --- Batch behaviour ----------------------------------------------------------

class CliBatch : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.file("in/sub"));
    write_image(dir_.file("in/a.png"), picture(20, 14, CV_8UC3));
    write_image(dir_.file("in/b.jpg"), picture(18, 12, CV_8UC3));
    write_image(dir_.file("in/sub/c.png"), picture(16, 16, CV_8UC3));
  }
  TempDir dir_;
};

TEST_F(CliBatch, SkipsExistingOutputsUnlessOverwrite) {
  const std::vector<std::string> cmd = {"upscale", "-i", dir_.file("in"), "-o", dir_.file("out"),
                                        "-s",      "3",  "--json"};
  const auto first = run_fdiwn(cmd);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(parse_json(first).value("done", -1), 2);
  write_file(dir_.file("out/a.png"), "stale");  // a finished output is never looked into

  const auto again = run_fdiwn(cmd);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  const auto doc = parse_json(again);
  EXPECT_EQ(doc.value("skipped", -1), 2);
  EXPECT_EQ(doc.value("done", -1), 0);
  EXPECT_EQ(read_file(dir_.file("out/a.png")), "stale");

  auto redo = cmd;
  redo.push_back("--overwrite");
  const auto forced = run_fdiwn(redo);
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(parse_json(forced).value("done", -1), 2);
  EXPECT_EQ(read_unchanged(dir_.file("out/a.png")).size(), cv::Size(60, 42));
}

TEST_F(CliBatch, RecursiveMirrorsTheTree) {
  const auto r =
      run_fdiwn({"upscale", "-i", dir_.file("in"), "-o", dir_.file("out"), "-r", "-s", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir_.file("out/a.png")));
  EXPECT_TRUE(fs::exists(dir_.file("out/b.jpg")));
  EXPECT_TRUE(fs::exists(dir_.file("out/sub/c.png")));
}

TEST_F(CliBatch, OutputFolderInsideTheInputIsNotReadBack) {
  const std::vector<std::string> cmd = {
      "upscale", "-i", dir_.file("in"), "-o", dir_.file("in/x2"), "-r", "-s", "2", "--json"};
  ASSERT_EQ(run_fdiwn(cmd).exit_code, 0);
  const auto again = run_fdiwn(cmd);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(parse_json(again).at("files").size(), 3u);
  EXPECT_FALSE(fs::exists(dir_.file("in/x2/x2")));
}

TEST_F(CliBatch, FormatQualityAndNamePattern) {
  const auto r = run_fdiwn({"upscale", "-i", dir_.file("in/a.png"), dir_.file("in/b.jpg"), "-o",
                            dir_.file("out"), "-s", "2", "--format", "webp", "--quality", "80",
                            "--name", "{name}_x{scale}.{ext}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_unchanged(dir_.file("out/a_x2.webp")).size(), cv::Size(40, 28));
  EXPECT_EQ(read_unchanged(dir_.file("out/b_x2.webp")).size(), cv::Size(36, 24));
}

TEST_F(CliBatch, SixteenBitToJpegIsReducedWithANote) {
  write_image(dir_.file("deep.png"), picture(12, 8, CV_16UC3));
  const auto r =
      run_fdiwn({"upscale", "-i", dir_.file("deep.png"), "-o", dir_.file("deep.jpg"), "-s", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("16-bit reduced to 8-bit"), std::string::npos) << r.err;
  EXPECT_EQ(read_unchanged(dir_.file("deep.jpg")).type(), CV_8UC3);
}

// Small images run side by side, one thread each; a larger one alone on all
// threads; the pixels are those of every image on all threads.
TEST_F(CliBatch, SmallImagesRunSideBySide) {
  write_image(dir_.file("in/large.png"), picture(330, 310, CV_8UC3));  // over 0.1 MP
  const auto run = [&](const std::string& out, const std::string& side_by_side) {
    return run_fdiwn({"upscale", "-i", dir_.file("in"), "-o", dir_.file(out), "-r", "-s", "2", "-j",
                      "2", "--side-by-side", side_by_side, "--json", "-v"});
  };
  const auto r = run("auto", "auto");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("run side by side, 2 at once"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("a.png: 20x14 LR pixels, whole (1 piece, 1 pass"), std::string::npos);
  const nlohmann::json doc = parse_json(r);
  for (const char* name : {"a.png", "b.jpg", "c.png"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(file_record(doc, name).at("threads"), 1);
  }
  EXPECT_EQ(file_record(doc, "large.png").at("threads"), 2);
  EXPECT_NE(r.err.find("1 thread (side by side)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("large.png: 330x310 LR pixels, whole (1 piece, 1 pass, ~"),
            std::string::npos)
      << r.err;

  // Without -j: OMP_NUM_THREADS, as the man page says (found by hand: it was
  // ignored), else every core.
  CliOptions one_thread;
  one_thread.env = {"OMP_NUM_THREADS=1"};
  const auto omp = run_fdiwn(
      {"upscale", "-i", dir_.file("in/large.png"), "-o", dir_.file("omp.png"), "-s", "2", "--json"},
      one_thread);
  ASSERT_EQ(omp.exit_code, 0) << omp.err;
  EXPECT_EQ(parse_json(omp).at("files").at(0).at("threads"), 1);
  // -j overrides it, up to 4 threads a core (the cores, not OMP_NUM_THREADS).
  cpu_set_t set;
  ASSERT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);
  const std::string most = std::to_string(4 * CPU_COUNT(&set));
  const auto j = run_fdiwn({"upscale", "-i", dir_.file("in/a.png"), "-o", dir_.file("j.png"), "-s",
                            "2", "-j", most, "--json"},
                           one_thread);
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(parse_json(j).at("files").at(0).at("threads"), 4 * CPU_COUNT(&set));
  // Found by hand: a value it cannot take was passed over without a word,
  // and `info` said "all the cores" when OMP_NUM_THREADS chose.
  CliOptions too_many;
  too_many.env = {"OMP_NUM_THREADS=999999"};
  const auto big = run_fdiwn(
      {"upscale", "-i", dir_.file("in/a.png"), "-o", dir_.file("big.png"), "-s", "2", "--json"},
      too_many);
  ASSERT_EQ(big.exit_code, 0) << big.err;
  EXPECT_NE(big.err.find("OMP_NUM_THREADS='999999' is not a thread count from 1 to " + most +
                         " (4 per core): using the " + std::to_string(CPU_COUNT(&set)) + " cores"),
            std::string::npos)
      << big.err;
  EXPECT_NE(run_fdiwn({"info"}, one_thread).out.find("threads: 1 (OMP_NUM_THREADS;"),
            std::string::npos);
  EXPECT_NE(run_fdiwn({"info"}, too_many).out.find("OMP_NUM_THREADS='999999' is not a count"),
            std::string::npos);
  // More than 4 a core, as -j refuses them.
  CliOptions beyond;
  beyond.env = {"OMP_NUM_THREADS=" + std::to_string(4 * CPU_COUNT(&set) + 1)};
  EXPECT_NE(run_fdiwn({"info"}, beyond).out.find("is not a count from 1 to " + most),
            std::string::npos);

  const auto off = run("off", "off");
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(off.err.find("side by side"), std::string::npos) << off.err;
  EXPECT_EQ(file_record(parse_json(off), "a.png").at("threads"), 2);
  for (const char* name : {"a.png", "b.jpg", "sub/c.png", "large.png"}) {
    SCOPED_TRACE(name);
    const cv::Mat a = read_unchanged(dir_.file(std::string("auto/") + name));
    const cv::Mat b = read_unchanged(dir_.file(std::string("off/") + name));
    ASSERT_FALSE(a.empty());
    EXPECT_TRUE(images_match(a, b, 1, 0.999));
  }
}

TEST_F(CliBatch, RefusesToWriteOverItsInputs) {
  const auto r = run_fdiwn({"upscale", "-i", dir_.file("in"), "-o", dir_.file("in"), "-s", "2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("would overwrite the input"), std::string::npos) << r.err;
}

TEST_F(CliBatch, RefusesTwoInputsForOneOutput) {
  write_image(dir_.file("in/a.jpg"), picture(8, 8, CV_8UC3));
  const auto r = run_fdiwn({"upscale", "-i", dir_.file("in"), "-o", dir_.file("out"), "-f", "png"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("would be written there"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_.file("out")));
}

TEST_F(CliBatch, MaxPixelsRefusesFromTheHeader) {
  const auto r = run_fdiwn(
      {"upscale", "-i", dir_.file("in/a.png"), "-o", dir_.file("o.png"), "--max-pixels", "100"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("more than the"), std::string::npos) << r.err;
}

TEST_F(CliBatch, SmallMemoryBudgetSplitsTheImage) {
  write_image(dir_.file("big.png"), picture(300, 240, CV_8UC3));
  const auto split = run_fdiwn({"upscale", "-i", dir_.file("big.png"), "-o", dir_.file("split.png"),
                                "-s", "2", "--max-memory", "440M", "-v"});
  ASSERT_EQ(split.exit_code, 0) << split.err;
  EXPECT_NE(split.err.find("chop ("), std::string::npos) << split.err;
  const auto whole = run_fdiwn({"upscale", "-i", dir_.file("big.png"), "-o", dir_.file("whole.png"),
                                "-s", "2", "--mode", "whole", "--max-memory", "440M"});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  // Found by hand: -m whole went over the budget without a word.
  EXPECT_NE(whole.err.find("MiB, more than the 440 MiB memory budget (-m auto would split it)"),
            std::string::npos)
      << whole.err;
  const cv::Mat a = read_unchanged(dir_.file("split.png")),
                b = read_unchanged(dir_.file("whole.png"));
  ASSERT_EQ(a.size(), cv::Size(600, 480));
  EXPECT_GT(cv::PSNR(a, b), 40.0);
}

TEST(CliInfo, ReportsWeightsAndCosts) {
  const auto r = run_fdiwn({"info"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"629,176", "646,486", "663,848", "LibTorch", "OpenCV", "threads"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  }
}

// --- Interruptions ---------------------------------------------------------------

class CliInterrupt : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.file("in"));
    for (int i = 0; i < 8; ++i) {
      write_image(dir_.file("in/img" + std::to_string(i) + ".png"), picture(128, 96 + i, CV_8UC3));
    }
  }
  // Waits until `count` outputs exist (or a timeout), so the signal lands
  // in the middle of the batch.
  void wait_for_outputs(const std::string& dir, size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      std::error_code ec;
      size_t n = 0;
      for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it) {
        n += it->path().filename().string()[0] != '.';
      }
      if (n >= count) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  TempDir dir_;
};

TEST_P(CliInterrupt, LeavesNoPartialFileAndResumes) {
  const int sig = GetParam();
  const std::vector<std::string> cmd = {"upscale", "-i", dir_.file("in"), "-o", dir_.file("out"),
                                        "-s",      "2"};
  CliProcess p(cmd);
  wait_for_outputs(dir_.file("out"), 2);
  p.signal(sig);
  const auto r = p.wait();
  EXPECT_EQ(r.exit_code, sig == SIGKILL ? 128 + SIGKILL : 130) << r.err;

  // What is there is complete; nothing half-written, no temporary files.
  EXPECT_TRUE(leftover_temporaries(dir_.path()).empty());
  size_t present = 0;
  for (const auto& e : fs::directory_iterator(dir_.file("out"))) {
    const cv::Mat m = read_unchanged(e.path().string());
    EXPECT_FALSE(m.empty()) << e.path();
    EXPECT_EQ(m.cols, 256) << e.path();
    ++present;
  }
  EXPECT_GE(present, 2u);
  EXPECT_LT(present, 8u) << "the signal came too late to interrupt anything";

  // Re-running finishes the rest; the result equals an uninterrupted run.
  const auto resumed = run_fdiwn(cmd);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto fresh =
      run_fdiwn({"upscale", "-i", dir_.file("in"), "-o", dir_.file("fresh"), "-s", "2"});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  for (int i = 0; i < 8; ++i) {
    const std::string name = "img" + std::to_string(i) + ".png";
    SCOPED_TRACE(name);
    EXPECT_TRUE(images_match(read_unchanged(dir_.file("out/" + name)),
                             read_unchanged(dir_.file("fresh/" + name)), 0, 1.0));
  }
}

INSTANTIATE_TEST_SUITE_P(Signals, CliInterrupt, ::testing::Values(SIGINT, SIGTERM, SIGKILL),
                         [](const auto& info) {
                           return info.param == SIGINT    ? std::string("SIGINT")
                                  : info.param == SIGTERM ? std::string("SIGTERM")
                                                          : std::string("SIGKILL");
                         });

}  // namespace
}  // namespace fdiwn::test
