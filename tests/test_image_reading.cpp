// read_image as a whole: the header checked from the first bytes before the
// file is read, TIFF blocks bounded, PNM samples scaled by their maxval, and
// results too large for their format refused before the work.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "fdiwn/errors.hpp"
#include "fdiwn/image_io.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;

// Expects read_image(path, options) to throw ImageError naming the file with
// each of `needles` in the message.
void expect_refused(const std::string& path, const ReadOptions& options,
                    const std::vector<std::string>& needles) {
  SCOPED_TRACE(path);
  try {
    read_image(path, options);
    ADD_FAILURE() << "no error";
  } catch (const ImageError& e) {
    EXPECT_EQ(e.path(), path);
    for (const auto& n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

// --- PNM maxval ---------------------------------------------------------------

struct PnmCase {
  const char* name;
  std::string bytes;
  std::vector<int> expected;  // the samples read, in memory order
};

std::vector<int> samples(const cv::Mat& m) {
  std::vector<int> v;
  const cv::Mat flat = m.reshape(1, 1);
  for (int i = 0; i < flat.cols; ++i) {
    v.push_back(m.depth() == CV_16U ? flat.at<uint16_t>(0, i) : flat.at<uint8_t>(0, i));
  }
  return v;
}

class PnmMaxval : public ::testing::TestWithParam<PnmCase> {};

TEST_P(PnmMaxval, SamplesCoverTheFullRange) {
  TempDir dir;
  const std::string path = dir.file(std::string(GetParam().name) + ".pnm");
  write_file(path, GetParam().bytes);
  const LoadedImage image = read_image(path);
  EXPECT_EQ(samples(image.pixels), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, PnmMaxval,
    ::testing::Values(
        // 16 bits: OpenCV returns the stored values (1000 would be near black).
        PnmCase{"plain16", "P2\n2 1\n1000\n1000 500\n", {65535, 32768}},
        PnmCase{"raw16", std::string("P5\n2 1\n1000\n\x03\xe8\x01\xf4", 16), {65535, 32768}},
        // 8 bits: raw samples are returned as stored, plain ones scaled by OpenCV.
        PnmCase{"raw8", std::string("P5\n2 1\n15\n\x0f\x07", 12), {255, 119}},
        PnmCase{"plain8", "P2\n2 1\n15\n15 7\n", {255, 119}},
        PnmCase{"plain_rgb", "P3\n1 1\n100\n100 50 0\n", {0, 127, 255}},
        PnmCase{"pam8",
                std::string("P7\nWIDTH 2\nHEIGHT 1\nDEPTH 1\nMAXVAL 15\nTUPLTYPE GRAYSCALE\n"
                            "ENDHDR\n\x0f\x07"),
                {255, 119}},
        PnmCase{"full8", std::string("P5\n2 1\n255\n\xff\x07", 13), {255, 7}},
        PnmCase{"full16", std::string("P5\n1 1\n65535\n\x12\x34", 15), {0x1234}}),
    [](const auto& info) { return std::string(info.param.name); });

// --- Header before the read ---------------------------------------------------

std::string png_file(const TempDir& dir, const std::string& name, int w, int h) {
  const std::string path = dir.file(name);
  EXPECT_TRUE(cv::imwrite(path, cv::Mat(h, w, CV_8UC3, cv::Scalar(10, 20, 30))));
  return path;
}

TEST(HeaderFirst, PaddedFileIsRefusedFromItsHeaderUnread) {
  TempDir dir;
  const std::string path = png_file(dir, "padded.png", 32, 32);
  fs::resize_file(path, std::uintmax_t{1} << 30);  // sparse padding after IEND
  ReadOptions options;
  options.max_pixels = 1000;
  options.file.max_bytes = 1 << 20;  // the pixel check must come first
  bool header_passed = false;
  options.on_header = [&](const ImageProbe&, std::size_t) { header_passed = true; };
  expect_refused(path, options, {"32x32", "1,024 pixels", "1,000 pixels", "--max-pixels"});
  EXPECT_FALSE(header_passed);

  // Without the pixel limit the header passes, with the memory it needs, and
  // the file is refused by its size, still unread.
  options.max_pixels = 0;
  std::size_t needed = 0;
  options.on_header = [&](const ImageProbe& p, std::size_t bytes) {
    EXPECT_EQ(p.width, 32);
    needed = bytes;
  };
  expect_refused(path, options, {"1.0 GiB", "not read"});
  EXPECT_GE(needed, std::size_t{1} << 30);
}

TEST(HeaderFirst, TiffDirectoryAtTheEndIsReadWhereItLies) {
  TempDir dir;
  const std::string path = dir.file("far.tif");
  TiffSpec t;
  t.width = t.height = 100000;
  t.rows_per_strip = 1;
  t.data = std::string(16, '\0');
  t.gap = std::uint64_t{1} << 30;
  write_tiff(path, t);
  ReadOptions options;
  options.max_pixels = 100'000'000;
  options.file.max_bytes = 1 << 20;  // far less than the file: it must not be read
  expect_refused(path, options, {"100000x100000", "--max-pixels"});
}

TEST(HeaderFirst, SmallTiffWithItsDirectoryAtTheEndDecodes) {
  TempDir dir;
  const std::string path = dir.file("late.tif");
  TiffSpec t;
  t.data = std::string(16 * 16, '\x40');
  t.gap = 512 * 1024;  // past the first bytes the header is looked for in
  write_tiff(path, t);
  const LoadedImage image = read_image(path);
  ASSERT_EQ(image.pixels.size(), cv::Size(16, 16));
  EXPECT_EQ(image.pixels.at<uint8_t>(3, 4), 0x40);
}

// Found by hand: the first page of a multi-page TIFF was read without a word.
TEST(HeaderFirst, TiffPagesAfterTheFirstAreNoted) {
  TempDir dir;
  const cv::Mat first(9, 11, CV_8UC3, cv::Scalar(10, 20, 30));
  const cv::Mat second(9, 11, CV_8UC3, cv::Scalar(200, 100, 50));
  const std::string one = dir.file("one.tif"), two = dir.file("two.tif");
  ASSERT_TRUE(cv::imwrite(one, first));
  ASSERT_TRUE(cv::imwritemulti(two, std::vector<cv::Mat>{first, second}));
  const auto noted = [](const LoadedImage& image) {
    for (const auto& n : image.notes) {
      if (n.find("only its first page is read") != std::string::npos) return true;
    }
    return false;
  };
  const LoadedImage single = read_image(one), pages = read_image(two);
  EXPECT_FALSE(single.probe.more_images);
  EXPECT_FALSE(noted(single));
  EXPECT_TRUE(pages.probe.more_images);
  EXPECT_TRUE(noted(pages));
  EXPECT_EQ(cv::norm(pages.pixels, first, cv::NORM_INF), 0);  // the first page, as said
}

// --- Formats OpenCV decodes only from a file -------------------------------------

TEST(NoTemporaryCopies, SunRasterDecodesWhereNoTemporaryFileCanBeMade) {
  TempDir dir;
  cv::Mat source(5, 7, CV_8UC3);
  cv::randu(source, 0, 256);
  std::vector<unsigned char> ras;
  ASSERT_TRUE(cv::imencode(".ras", source, ras));
  const std::string path = dir.file("in.ras");
  write_file(path, std::string(ras.begin(), ras.end()));
  // A path below a regular file: no temporary copy can be made there.
  write_file(dir.file("blocker"), "x");
  const ScopedEnv temp("OPENCV_TEMP_PATH", dir.file("blocker/sub"));
  const LoadedImage image = read_image(path);
  ASSERT_EQ(image.pixels.size(), source.size());
  EXPECT_EQ(cv::norm(image.pixels, source, cv::NORM_INF), 0.0);
}

TEST(NoTemporaryCopies, DamagedPfmIsRefusedFromItsHeaderLeavingNothing) {
  // Found by fuzzing: OpenCV's PFM decoder throws on this file after
  // cv::imdecode has copied it to a temporary file, which stayed behind.
  TempDir dir, temp_dir;
  const std::string path = dir.file("damaged.pfm");
  write_file(path, "Pf\n5\r\n2\r" + std::string(64, 'f'));
  const ScopedEnv temp("OPENCV_TEMP_PATH", temp_dir.path());
  expect_refused(path, {}, {"floating-point"});
  EXPECT_TRUE(fs::is_empty(temp_dir.path()));
}

// Found by hand: both were "cannot decode the other data".
TEST(CutShort, JpegTwoThousandAndSunRasterAreNamed) {
  TempDir dir;
  cv::Mat source(40, 48, CV_8UC3);
  cv::randu(source, 0, 256);
  for (const auto& [extension, name] : {std::pair{".jp2", "JPEG 2000"}, {".ras", "Sun raster"}}) {
    SCOPED_TRACE(extension);
    std::vector<unsigned char> bytes;
    ASSERT_TRUE(cv::imencode(extension, source, bytes));
    const std::string path = dir.file(std::string("cut") + extension);
    write_file(path, std::string(bytes.begin(), bytes.begin() + bytes.size() * 2 / 3));
    expect_refused(path, {}, {std::string("cannot decode the ") + name + " data", "cut short"});
  }
}

// --- Names a folder scan takes ------------------------------------------------------

TEST(ReadableNames, EveryUsualExtensionOfAFormatReadIsTaken) {
  // Found by hand: .pam, .jfif and the JPEG 2000 names other than .jp2
  // were skipped by folder scans, though their content is read.
  for (const char* ext :
       {"png", "JPG", ".jpeg", "jfif", "jp2", "j2k", "j2c", "jpc", "jpf",  "jpx", "webp",
        "tif", "bmp", "ppm",   "pgm",  "pbm", "pnm", "pam", "ras", "heic", "avif"}) {
    EXPECT_TRUE(is_readable_extension(ext)) << ext;
  }
  for (const char* ext : {"txt", "json", "gif", "", "p"}) EXPECT_FALSE(is_readable_extension(ext));
}

// --- TIFF blocks ----------------------------------------------------------------

TEST(TiffBlocks, FirstOfDuplicateTagsCountsAsInLibtiff) {
  // Found by fuzz_image: ImageLength 32777, then a second ImageLength that
  // read as 73. libtiff keeps the first and allocated 2.9 GB.
  const std::string path =
      std::string(FDIWN_FUZZ_DIR) + "/regressions/image/tiff-duplicate-length-oom";
  ReadOptions options;
  options.max_pixels = 4'000'000;
  expect_refused(path, options, {"29965x32777"});
}

TEST(TiffBlocks, HugeTileOnATinyImageIsRefused) {
  TempDir dir;
  const std::string path = dir.file("tile.tif");
  TiffSpec t;
  t.tile_width = t.tile_length = 16384;
  t.compression = 8;
  t.data = std::string(64, '\0');  // never reached: refused from the directory
  write_tiff(path, t);
  ReadOptions options;  // no pixel limit: the block's own bound refuses it
  expect_refused(path, options, {"16384x16384", "tiles or strips", "16x16"});
  options.max_pixels = 100'000'000;
  expect_refused(path, options, {"16384x16384"});
}

TEST(TiffBlocks, StripOfMoreRowsThanTheImageIsRefused) {
  TempDir dir;
  const std::string path = dir.file("strip.tif");
  TiffSpec t;
  t.rows_per_strip = 4'000'000;  // OpenCV 4.6 sizes its buffer by this, not by the height
  t.data = std::string(16 * 16, '\0');
  write_tiff(path, t);
  expect_refused(path, {}, {"16x4000000"});
}

TEST(TiffBlocks, OrdinaryTileLargerThanTheImageDecodes) {
  TempDir dir;
  const std::string path = dir.file("tiled.tif");
  TiffSpec t;
  t.tile_width = t.tile_length = 256;
  t.data = std::string(256 * 256, '\x7f');
  write_tiff(path, t);
  const LoadedImage image = read_image(path);
  ASSERT_EQ(image.pixels.size(), cv::Size(16, 16));
  EXPECT_EQ(image.pixels.at<uint8_t>(15, 15), 0x7f);
  EXPECT_EQ(image.probe.block_width, 256u);
}

// --- Formats' size limits -----------------------------------------------------

TEST(Encodable, WebPAndJpegSizeLimits) {
  EXPECT_NO_THROW(check_encodable(".webp", cv::Size(16383, 16383), "a.webp"));
  EXPECT_THROW(check_encodable("webp", cv::Size(16384, 10), "a.webp"), ImageError);
  EXPECT_THROW(check_encodable("JPG", cv::Size(10, 65501), "a.jpg"), ImageError);
  EXPECT_NO_THROW(check_encodable("jpeg", cv::Size(65500, 10), "a.jpg"));
  EXPECT_NO_THROW(check_encodable("png", cv::Size(100000, 10), "a.png"));
  try {
    check_encodable("webp", cv::Size(20000, 100), "big.webp");
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("20000x100"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("16383"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace fdiwn::test
