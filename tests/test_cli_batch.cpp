// `fdiwn upscale` on folders: every image kind kept as it came, every kind
// of bad input refused clearly, skip/overwrite, naming, --json, and
// interrupted batches that leave no partial file.
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

#include "cli_runner.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;

// A smooth test picture (network outputs on noise say little).
cv::Mat picture(int w, int h, int type) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      m.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uchar>(40 + 7 * x % 180), static_cast<uchar>(30 + 9 * y % 200),
                    static_cast<uchar>(60 + 3 * (x + y) % 150));
    }
  }
  cv::Mat out;
  const int depth = CV_MAT_DEPTH(type), channels = CV_MAT_CN(type);
  if (channels == 1) cv::cvtColor(m, m, cv::COLOR_BGR2GRAY);
  if (channels == 4) {
    cv::cvtColor(m, m, cv::COLOR_BGR2BGRA);
    // Alpha: transparent left third, opaque right third, a ramp between.
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const int a = x < w / 3 ? 0 : x >= 2 * w / 3 ? 255 : 255 * (x - w / 3) / (w / 3);
        m.at<cv::Vec4b>(y, x)[3] = static_cast<uchar>(a);
      }
    }
  }
  m.convertTo(out, depth, depth == CV_16U ? 257.0 : 1.0);
  if (depth == CV_16U) out += cv::Scalar::all(77);  // not a multiple of 257
  return out;
}

void write_image(const std::string& path, const cv::Mat& m) {
  ASSERT_TRUE(cv::imwrite(path, m)) << path;
}

cv::Mat read_unchanged(const std::string& path) {
  return cv::imread(path, cv::IMREAD_UNCHANGED);
}

void make_accessible(const std::string& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    fs::permissions(e.path(), fs::perms::all, fs::perm_options::add);
  }
  fs::permissions(dir, fs::perms::all, fs::perm_options::add);
}

nlohmann::json parse_json(const CliResult& r) {
  try {
    return nlohmann::json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not JSON: " << e.what() << "\n" << r.out;
    return nlohmann::json::object();
  }
}

// The JSON record of the file whose input ends with `name`.
nlohmann::json file_record(const nlohmann::json& doc, const std::string& name) {
  for (const auto& f : doc.at("files")) {
    const std::string in = f.at("input");
    if (in.size() >= name.size() && in.compare(in.size() - name.size(), name.size(), name) == 0) {
      return f;
    }
  }
  ADD_FAILURE() << "no record for " << name;
  return nlohmann::json::object();
}

std::vector<std::string> leftover_temporaries(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().find(".fdiwn-") != std::string::npos) {
      found.push_back(e.path().string());
    }
  }
  return found;
}

// --- Every image kind, and every bad input, in one folder --------------------

class KindsAndBadInputs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string in = dir_->file("in");
    fs::create_directories(in);
    write_image(in + "/rgb8.png", picture(24, 16, CV_8UC3));
    write_image(in + "/rgb16.png", picture(24, 16, CV_16UC3));
    write_image(in + "/gray8.png", picture(24, 16, CV_8UC1));
    write_image(in + "/gray16.png", picture(24, 16, CV_16UC1));
    write_image(in + "/rgba8.png", picture(24, 16, CV_8UC4));
    cv::Mat opaque = picture(24, 16, CV_8UC4);
    cv::Mat alpha(opaque.size(), CV_8UC1, cv::Scalar(255));
    cv::insertChannel(alpha, opaque, 3);
    write_image(in + "/opaque_rgba.png", opaque);
    write_image(in + "/one_pixel.png", picture(1, 1, CV_8UC3));
    write_image(in + "/photo.jpg", picture(24, 16, CV_8UC3));
    write_image(in + "/ünïcödé name ß.png", picture(12, 10, CV_8UC3));
    for (const char* kind :
         {"palette_trns.png", "gray_alpha.png", "cmyk.jpg", "exif_orientation6.jpg", "bomb.png"}) {
      fs::copy_file(data_path(std::string("kinds/") + kind), in + "/" + kind);
    }
    // Bad inputs.
    write_file(in + "/empty.png", "");
    write_file(in + "/text.png", "this is not a picture\n");
    std::vector<uchar> png, jpg;
    cv::imencode(".png", picture(24, 16, CV_8UC3), png);
    cv::imencode(".jpg", picture(24, 16, CV_8UC3), jpg);
    write_file(in + "/truncated.png", std::string(png.begin(), png.begin() + png.size() / 2));
    write_file(in + "/truncated.jpg", std::string(jpg.begin(), jpg.begin() + jpg.size() / 2));
    write_file(in + "/readme.txt", "not an image\n");

    result_ = new CliResult(
        run_fdiwn({"upscale", "-i", in, "-o", dir_->file("out"), "-s", "2", "--json"}));
    doc_ = new nlohmann::json(parse_json(*result_));
  }
  static void TearDownTestSuite() {
    delete doc_;
    delete result_;
    delete dir_;
  }

  // The output of input `name`, checked for status done.
  static cv::Mat output_of(const std::string& name) {
    const auto rec = file_record(*doc_, name);
    EXPECT_EQ(rec.value("status", ""), "done") << rec.dump();
    const std::string out = rec.value("output", "");
    EXPECT_TRUE(fs::exists(out)) << out;
    return read_unchanged(out);
  }

  static void expect_refused(const std::string& name, const std::string& reason) {
    SCOPED_TRACE(name);
    const auto rec = file_record(*doc_, name);
    EXPECT_EQ(rec.value("status", ""), "failed");
    const std::string error = rec.value("error", "");
    EXPECT_NE(error.find(name), std::string::npos) << error;
    EXPECT_NE(error.find(reason), std::string::npos) << error;
    // The one-line error is in the log too, and no output was written.
    EXPECT_NE(result_->err.find(error), std::string::npos) << result_->err;
    EXPECT_EQ(error.find('\n'), std::string::npos);
    EXPECT_FALSE(fs::exists(dir_->file("out/" + name)));
  }

  static TempDir* dir_;
  static CliResult* result_;
  static nlohmann::json* doc_;
};

TempDir* KindsAndBadInputs::dir_ = nullptr;
CliResult* KindsAndBadInputs::result_ = nullptr;
nlohmann::json* KindsAndBadInputs::doc_ = nullptr;

TEST_F(KindsAndBadInputs, ExitsOneBecauseSomeFailed) {
  EXPECT_EQ(result_->exit_code, 1) << result_->err;
  EXPECT_EQ(doc_->value("failed", -1), 5);
  EXPECT_EQ(doc_->value("done", -1), 13);
  EXPECT_EQ(doc_->value("exit_code", -1), 1);
  EXPECT_TRUE(leftover_temporaries(dir_->path()).empty());
}

TEST_F(KindsAndBadInputs, NonImagesAreIgnoredWithANote) {
  for (const auto& f : doc_->at("files")) {
    EXPECT_EQ(f.at("input").get<std::string>().find("readme.txt"), std::string::npos);
  }
  EXPECT_NE(result_->err.find("readme.txt"), std::string::npos) << result_->err;
}

TEST_F(KindsAndBadInputs, Rgb8) {
  const cv::Mat m = output_of("rgb8.png");
  EXPECT_EQ(m.type(), CV_8UC3);
  EXPECT_EQ(m.size(), cv::Size(48, 32));
}

TEST_F(KindsAndBadInputs, Rgb16StaysSixteenBitWithoutAnEightBitBottleneck) {
  const cv::Mat m = output_of("rgb16.png");
  ASSERT_EQ(m.type(), CV_16UC3);
  EXPECT_EQ(m.size(), cv::Size(48, 32));
  cv::Mat remainder;
  cv::Mat m32;
  m.convertTo(m32, CV_32S);
  int off_grid = 0;
  m32.forEach<cv::Vec3i>([&](const cv::Vec3i& v, const int*) {
    for (int c = 0; c < 3; ++c) off_grid += v[c] % 257 != 0;
  });
  EXPECT_GT(off_grid, static_cast<int>(m.total()));  // most values between 8-bit levels
  EXPECT_EQ(file_record(*doc_, "rgb16.png").value("bit_depth", 0), 16);
}

TEST_F(KindsAndBadInputs, GrayStaysGray) {
  EXPECT_EQ(output_of("gray8.png").type(), CV_8UC1);
  EXPECT_EQ(output_of("gray16.png").type(), CV_16UC1);
}

TEST_F(KindsAndBadInputs, AlphaIsUpscaledAndKept) {
  const cv::Mat m = output_of("rgba8.png");
  ASSERT_EQ(m.type(), CV_8UC4);
  cv::Mat alpha;
  cv::extractChannel(m, alpha, 3);
  // The transparent and opaque thirds stay so (away from the ramp).
  double lo = 0, hi = 0;
  cv::minMaxLoc(alpha(cv::Rect(0, 0, 10, 32)), &lo, &hi);
  EXPECT_LE(hi, 3);
  cv::minMaxLoc(alpha(cv::Rect(38, 0, 10, 32)), &lo, &hi);
  EXPECT_GE(lo, 252);
}

TEST_F(KindsAndBadInputs, OpaqueAlphaStaysExactlyOpaque) {
  const cv::Mat m = output_of("opaque_rgba.png");
  ASSERT_EQ(m.type(), CV_8UC4);
  cv::Mat alpha;
  cv::extractChannel(m, alpha, 3);
  EXPECT_EQ(cv::countNonZero(alpha != 255), 0);
}

TEST_F(KindsAndBadInputs, PaletteWithTransparencyKeepsItsAlpha) {
  const cv::Mat m = output_of("palette_trns.png");
  EXPECT_EQ(m.type(), CV_8UC4);
  EXPECT_EQ(m.size(), cv::Size(60, 40));
}

TEST_F(KindsAndBadInputs, GrayAlphaKeepsItsAlpha) {
  const cv::Mat m = output_of("gray_alpha.png");
  EXPECT_EQ(m.channels(), 4);
  EXPECT_EQ(m.size(), cv::Size(60, 40));
}

TEST_F(KindsAndBadInputs, CmykJpegBecomesRgb) {
  const cv::Mat m = output_of("cmyk.jpg");
  EXPECT_EQ(m.type(), CV_8UC3);
  const auto notes = file_record(*doc_, "cmyk.jpg").at("notes").dump();
  EXPECT_NE(notes.find("CMYK"), std::string::npos) << notes;
}

TEST_F(KindsAndBadInputs, ExifOrientationIsApplied) {
  // Stored 30x20, displayed 20x30.
  EXPECT_EQ(output_of("exif_orientation6.jpg").size(), cv::Size(40, 60));
}

TEST_F(KindsAndBadInputs, OnePixelImage) {
  EXPECT_EQ(output_of("one_pixel.png").size(), cv::Size(2, 2));
}

TEST_F(KindsAndBadInputs, JpegStaysJpeg) {
  const auto rec = file_record(*doc_, "photo.jpg");
  EXPECT_EQ(fs::path(rec.value("output", "")).extension(), ".jpg");
  EXPECT_EQ(output_of("photo.jpg").size(), cv::Size(48, 32));
}

TEST_F(KindsAndBadInputs, NonAsciiNameWithSpaces) {
  EXPECT_EQ(output_of("ünïcödé name ß.png").size(), cv::Size(24, 20));
  EXPECT_TRUE(fs::exists(dir_->file("out/ünïcödé name ß.png")));
}

TEST_F(KindsAndBadInputs, EmptyFile) {
  expect_refused("empty.png", "empty");
}
TEST_F(KindsAndBadInputs, TextNamedPng) {
  expect_refused("text.png", "not a supported image");
}
TEST_F(KindsAndBadInputs, TruncatedPng) {
  expect_refused("truncated.png", "truncated");
}
TEST_F(KindsAndBadInputs, TruncatedJpeg) {
  expect_refused("truncated.jpg", "truncated");
}
TEST_F(KindsAndBadInputs, DecompressionBomb) {
  expect_refused("bomb.png", "100000x100000");
}

TEST_F(KindsAndBadInputs, JsonRecordsSizesAndTimes) {
  const auto rec = file_record(*doc_, "rgb8.png");
  EXPECT_EQ(rec.at("input_size"), (nlohmann::json{{"width", 24}, {"height", 16}}));
  EXPECT_EQ(rec.at("output_size"), (nlohmann::json{{"width", 48}, {"height", 32}}));
  EXPECT_EQ(rec.at("channels"), 3);
  EXPECT_GT(rec.at("seconds").get<double>(), 0.0);
  EXPECT_TRUE(rec.at("error").is_null());
  EXPECT_EQ(doc_->at("scale"), 2);
}

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
                                "-s", "2", "--mode", "whole"});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
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
