// HEIF (HEIC) and AVIF through the command: inputs made in the test by
// libheif's own heif-enc (installed by the test command), 8- and 10-bit,
// with and without alpha; sizes claimed by the header checked before
// decoding; AVIF written (-f avif) and read back by heif-convert and
// exiftool, independent readers.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cli_files.hpp"
#include "cli_runner.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;

// heif-enc SOURCE -o OUT with `options`; the output format from OUT.
void heif_enc(const std::string& source, const std::string& out,
              const std::vector<std::string>& options) {
  std::vector<std::string> argv = {"heif-enc"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.insert(argv.end(), {source, "-o", out});
  const CliResult r = run_command(argv);
  ASSERT_EQ(r.exit_code, 0) << "heif-enc (libheif-examples) is needed: " << r.err;
}

struct Case {
  const char* name;
  int source_type;  // of the PNG heif-enc reads
  std::vector<std::string> options;
  int depth, channels;  // of the upscaled PNG
};

// Upscales a HEIF/AVIF encode of a PNG, and the same file decoded by
// libheif's heif-convert to PNG: the two agree (colour order, alpha and the
// 10-to-16-bit scaling as an independent decode has them), and the kind
// (depth, alpha) comes through.
void expect_upscaled(const Case& c, const std::string& extension) {
  SCOPED_TRACE(std::string(c.name) + " " + extension);
  TempDir dir;
  const std::string png = dir.file("src.png"), coded = dir.file("src." + extension);
  write_image(png, picture(40, 24, c.source_type));
  heif_enc(png, coded, c.options);
  const CliResult r = run_fdiwn({"upscale", "-i", coded, "-o", dir.file("out.png"), "-s", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(run_command({"heif-convert", coded, dir.file("decoded.png")}).exit_code, 0);
  ASSERT_EQ(
      run_fdiwn({"upscale", "-i", dir.file("decoded.png"), "-o", dir.file("ref.png"), "-s", "2"})
          .exit_code,
      0);
  const cv::Mat out = read_unchanged(dir.file("out.png"));
  const cv::Mat ref = read_unchanged(dir.file("ref.png"));
  ASSERT_EQ(out.cols, 80);
  ASSERT_EQ(out.rows, 48);
  EXPECT_EQ(out.depth(), c.depth);
  EXPECT_EQ(out.channels(), c.channels);
  EXPECT_GT(psnr(out, ref), 45.0);
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"8-bit", CV_8UC3, {"-q", "90"}, CV_8U, 3},
      {"8-bit alpha", CV_8UC4, {"-q", "90"}, CV_8U, 4},
      // 4:2:2: Debian 12's libaom aborts on 10-bit 4:2:0 (heif-enc too).
      {"10-bit", CV_16UC3, {"-q", "90", "-b", "10", "-p", "chroma=422"}, CV_16U, 3},
  };
  return all;
}

TEST(Heif, HeicInputs) {
  for (const Case& c : cases()) expect_upscaled(c, "heic");
  expect_upscaled({"10-bit alpha", CV_16UC4, {"-q", "90", "-b", "10"}, CV_16U, 4}, "heic");
}

TEST(Heif, AvifInputs) {
  for (const Case& c : cases()) expect_upscaled(c, "avif");
}

TEST(Heif, PhoneGridOfTiles) {
  // A phone's HEIC is a grid of tiles: a 2x2 grid of one 80x64 tile
  // (tests/data/heif/make_grid.py says how it was made), against
  // heif-convert's decode of the same file.
  TempDir dir;
  const std::string grid = data_path("heif/grid2x2.heic");
  const CliResult r = run_fdiwn({"upscale", "-i", grid, "-o", dir.file("out.png"), "-s", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(run_command({"heif-convert", grid, dir.file("decoded.png")}).exit_code, 0);
  const cv::Mat decoded = read_unchanged(dir.file("decoded.png"));
  ASSERT_EQ(decoded.size(), cv::Size(160, 128));
  // The four tiles are the same picture.
  EXPECT_EQ(
      cv::norm(decoded(cv::Rect(0, 0, 80, 64)), decoded(cv::Rect(80, 64, 80, 64)), cv::NORM_INF),
      0.0);
  ASSERT_EQ(
      run_fdiwn({"upscale", "-i", dir.file("decoded.png"), "-o", dir.file("ref.png"), "-s", "2"})
          .exit_code,
      0);
  const cv::Mat out = read_unchanged(dir.file("out.png"));
  ASSERT_EQ(out.size(), cv::Size(320, 256));
  EXPECT_GT(psnr(out, read_unchanged(dir.file("ref.png"))), 45.0);
}

TEST(Heif, GridsThatLoopAreRefusedBeforeDecoding) {
  // libheif 1.15 follows item references without checking for loops: a
  // grid that is its own tile started threads until the process died (found
  // by fuzz_image), two grids that are each other's tile overflowed the
  // stack. Both are refused from the header.
  for (const std::string name : {"heif-grid-own-tile", "heif-grids-each-others-tile"}) {
    SCOPED_TRACE(name);
    TempDir dir;
    const std::string input = dir.file("loop.heic");
    fs::copy_file(std::string(FDIWN_FUZZ_DIR) + "/regressions/image/" + name, input);
    const CliResult r = run_fdiwn({"upscale", "-i", input, "-o", dir.file("o.png"), "-s", "2"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("loop.heic: broken HEIF: its images refer to each other in a loop"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(dir.file("o.png")));
  }
}

TEST(Heif, SizeOverTheLimitIsRefusedFromTheHeader) {
  TempDir dir;
  const std::string png = dir.file("src.png"), heic = dir.file("big.heic");
  write_image(png, picture(40, 24, CV_8UC3));
  heif_enc(png, heic, {"-q", "50"});
  CliResult r =
      run_fdiwn({"upscale", "-i", heic, "-o", dir.file("o.png"), "-s", "2", "--max-pixels", "900"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("40x24 (960 pixels), more than the 900 pixels allowed (--max-pixels)"),
            std::string::npos)
      << r.err;
  // A header that lies: the primary image's ispe says 60000x60000. Refused
  // from the header (libheif would reject the stream only while decoding).
  std::ifstream in(heic, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const size_t ispe = bytes.find("ispe");
  ASSERT_NE(ispe, std::string::npos);
  for (size_t at : {ispe + 8, ispe + 12}) bytes.replace(at, 4, std::string("\x00\x00\xEA\x60", 4));
  std::ofstream(dir.file("lying.heic"), std::ios::binary) << bytes;
  r = run_fdiwn({"upscale", "-i", dir.file("lying.heic"), "-o", dir.file("o.png"), "-s", "2",
                 "--max-pixels", "100M"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("60000x60000"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir.file("o.png")));
}

TEST(Heif, AvifWrittenWithItsMetadata) {
  TempDir dir;
  const std::string jpg = dir.file("photo.jpg");
  write_image(jpg, picture(24, 16, CV_8UC3));
  const CliResult tagged =
      run_command({"exiftool", "-q", "-overwrite_original", "-Orientation#=6", "-Make=TestCam",
                   "-XMP-dc:Title=Hello", "-XMP-tiff:Orientation#=6", "-IPTC:Keywords=sr", jpg});
  ASSERT_EQ(tagged.exit_code, 0) << "exiftool (libimage-exiftool-perl) is needed: " << tagged.err;
  const CliResult r =
      run_fdiwn({"upscale", "-i", jpg, "-o", dir.file("out.avif"), "-s", "2", "--quality", "100"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Found by hand: the IPTC was lost without the note WebP gives.
  EXPECT_NE(r.err.find("its IPTC not kept: AVIF files cannot hold it"), std::string::npos) << r.err;
  const std::string avif = dir.file("out.avif");
  ASSERT_TRUE(fs::exists(avif)) << r.err;
  const auto tag = [&](const std::string& name) {
    std::string v = run_command({"exiftool", "-s3", "-n", "-" + name, avif}).out;
    while (!v.empty() && v.back() == '\n') v.pop_back();
    return v;
  };
  EXPECT_EQ(tag("Make"), "TestCam");
  EXPECT_EQ(tag("Orientation"), "1");
  EXPECT_EQ(tag("ExifImageWidth"), "32");
  EXPECT_EQ(tag("XMP-dc:Title"), "Hello");
  EXPECT_EQ(tag("XMP-tiff:Orientation"), "1");
  // Read back by libheif's heif-convert: orientation applied (16x24 shown),
  // and --quality 100 (lossless mode, 4:4:4) within one level of the PNG.
  ASSERT_EQ(run_command({"heif-convert", avif, dir.file("back.png")}).exit_code, 0);
  ASSERT_EQ(run_fdiwn({"upscale", "-i", jpg, "-o", dir.file("ref.png"), "-s", "2"}).exit_code, 0);
  const cv::Mat back = cv::imread(dir.file("back.png"), cv::IMREAD_COLOR);
  const cv::Mat ref = cv::imread(dir.file("ref.png"), cv::IMREAD_COLOR);
  ASSERT_EQ(back.size(), cv::Size(32, 48));
  EXPECT_LE(cv::norm(back, ref, cv::NORM_INF), 1.0);
  // A folder with -f avif.
  fs::create_directories(dir.file("in"));
  fs::copy_file(jpg, dir.file("in/photo.jpg"));
  const CliResult folder =
      run_fdiwn({"upscale", "-i", dir.file("in"), "-o", dir.file("out"), "-f", "avif", "-s", "2"});
  ASSERT_EQ(folder.exit_code, 0) << folder.err;
  EXPECT_TRUE(fs::exists(dir.file("out/photo.avif")));
}

TEST(Heif, InfoListsTheFormatsAndLibraries) {
  const CliResult r = run_fdiwn({"info", "--json"});
  const auto doc = parse_json(r);
  bool heic = false, avif = false;
  for (const auto& f : doc.at("formats")) {
    const std::string library = f.at("library");
    if (f.at("name") == "HEIF (HEIC)") heic = library.find("libheif") != std::string::npos;
    if (f.at("name") == "AVIF") avif = f.at("write") == "avif";
  }
  EXPECT_TRUE(heic) << r.out;
  EXPECT_TRUE(avif) << r.out;
}

}  // namespace
}  // namespace fdiwn::test
