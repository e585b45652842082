// `fdiwn upscale` on a folder of every image kind (each kept as it came) and
// every kind of bad input (each refused clearly, the others done).
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
    for (const char* kind : {"palette_trns.png", "gray_alpha.png", "cmyk.jpg",
                             "exif_orientation6.jpg", "bomb.png", "cmyk.tif", "gray_alpha.tif"}) {
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
    // Cut in its image data, then closed by an end-of-image marker: whole
    // by its markers.
    std::vector<uchar> big;
    cv::imencode(".jpg", picture(200, 150, CV_8UC3), big);
    write_file(in + "/cut_then_closed.jpg",
               std::string(big.begin(), big.begin() + big.size() * 9 / 10) + "\xFF\xD9");
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
  EXPECT_EQ(doc_->value("failed", -1), 6);
  EXPECT_EQ(doc_->value("done", -1), 15);
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

TEST_F(KindsAndBadInputs, CmykTiffBecomesRgbWithoutAnAlphaItDidNotHave) {
  // Found by hand: OpenCV's decoder gave it an opaque alpha channel.
  EXPECT_EQ(output_of("cmyk.tif").type(), CV_8UC3);
}

TEST_F(KindsAndBadInputs, GrayAlphaTiffSaysItsAlphaIsLost) {
  // OpenCV's TIFF decoder reads gray + alpha as gray: no longer in silence.
  EXPECT_EQ(output_of("gray_alpha.tif").channels(), 1);
  const auto notes = file_record(*doc_, "gray_alpha.tif").at("notes").dump();
  EXPECT_NE(notes.find("its alpha channel is not kept"), std::string::npos) << notes;
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
  // Found by hand: done, with a flat gray band where its data was missing.
  expect_refused("cut_then_closed.jpg", "damaged JPEG: its image data ends early");
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

}  // namespace
}  // namespace fdiwn::test
