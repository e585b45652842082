// Metadata kept from input to output: a JPEG with an ICC profile, camera
// EXIF (orientation 6) and XMP upscaled into JPEG, PNG, WebP and TIFF, read
// back by an independent reader (exiftool, installed by the test command);
// --metadata strip; formats that cannot hold it; damaged metadata.
#include <cstdint>
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

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spill(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A small but valid ICC profile: a 128-byte header and an empty tag table.
std::string icc_profile() {
  std::string p(132, '\0');
  p[3] = static_cast<char>(132);  // size, big-endian
  p.replace(4, 4, "fdwn");
  p[8] = 0x02;
  p[9] = 0x10;
  p.replace(12, 4, "mntr");
  p.replace(16, 4, "RGB ");
  p.replace(20, 4, "XYZ ");
  p.replace(36, 4, "acsp");
  return p;
}

// exiftool's value of `tag` (numbers as numbers), or "" if it is not there.
std::string tag(const std::string& file, const std::string& name) {
  const CliResult r = run_command({"exiftool", "-s3", "-n", "-" + name, file});
  EXPECT_EQ(r.exit_code, 0) << "exiftool (libimage-exiftool-perl) is needed: " << r.err;
  std::string v = r.out;
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  return v;
}

std::string icc_of(const std::string& file) {
  return run_command({"exiftool", "-b", "-ICC_Profile", file}).out;
}

// The profile name of a PNG's iCCP chunk (the bytes before its first NUL),
// read from the chunks themselves: exiftool reads the profile whatever the
// name, libpng drops it if the name is empty or longer than 79 bytes.
std::string png_icc_name(const std::string& file) {
  const std::string png = slurp(file);
  const auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  for (size_t at = 8; at + 12 <= png.size(); at += 12 + be32(at)) {
    if (png.compare(at + 4, 4, "iCCP") == 0) return std::string(png.c_str() + at + 8);
  }
  ADD_FAILURE() << file << " has no iCCP chunk";
  return "";
}

class Metadata : public ::testing::Test {
 protected:
  void SetUp() override {
    input_ = dir_.file("photo.jpg");
    write_image(input_, picture(24, 16, CV_8UC3));
    spill(dir_.file("p.icc"), icc_profile());
    const CliResult r =
        run_command({"exiftool", "-q", "-overwrite_original", "-Orientation#=6", "-Make=TestCam",
                     "-Model=X1", "-ExifImageWidth=24", "-ExifImageHeight=16",
                     "-XMP-dc:Title=Hello", "-XMP-tiff:Orientation#=6",
                     "-XMP-exif:ExifImageWidth=24", "-ICC_Profile<=" + dir_.file("p.icc"), input_});
    ASSERT_EQ(r.exit_code, 0) << "exiftool (libimage-exiftool-perl) is needed: " << r.err;
    ASSERT_EQ(tag(input_, "Orientation"), "6");
  }
  CliResult upscale(const std::string& output, const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = {"upscale", "-i", input_, "-o", output, "-s", "2", "--json"};
    args.insert(args.end(), more.begin(), more.end());
    return run_fdiwn(args);
  }
  TempDir dir_;
  std::string input_;
};

// Orientation 6 applied: 24x16 stored, 16x24 shown, 32x48 out.
void expect_kept(const std::string& out, const std::string& icc) {
  SCOPED_TRACE(out);
  EXPECT_EQ(icc_of(out), icc);
  EXPECT_EQ(tag(out, "Make"), "TestCam");
  EXPECT_EQ(tag(out, "Model"), "X1");
  EXPECT_EQ(tag(out, "Orientation"), "1");
  EXPECT_EQ(tag(out, "ExifImageWidth"), "32");
  EXPECT_EQ(tag(out, "ExifImageHeight"), "48");
  EXPECT_EQ(tag(out, "XMP-dc:Title"), "Hello");
  // XMP's copies too: a reader that trusts them must not turn the image again.
  EXPECT_EQ(tag(out, "XMP-tiff:Orientation"), "1");
  EXPECT_EQ(tag(out, "XMP-exif:ExifImageWidth"), "32");
  const cv::Mat m = cv::imread(out, cv::IMREAD_UNCHANGED);
  EXPECT_EQ(m.cols, 32);
  EXPECT_EQ(m.rows, 48);
}

TEST_F(Metadata, KeptInJpeg) {
  ASSERT_EQ(upscale(dir_.file("out.jpg")).exit_code, 0);
  expect_kept(dir_.file("out.jpg"), icc_profile());
}
TEST_F(Metadata, KeptInPng) {
  ASSERT_EQ(upscale(dir_.file("out.png")).exit_code, 0);
  expect_kept(dir_.file("out.png"), icc_profile());
  const std::string name = png_icc_name(dir_.file("out.png"));
  EXPECT_TRUE(!name.empty() && name.size() <= 79) << "iCCP profile name '" << name << "'";
}
TEST_F(Metadata, KeptInWebP) {
  ASSERT_EQ(upscale(dir_.file("out.webp")).exit_code, 0);
  expect_kept(dir_.file("out.webp"), icc_profile());
}
TEST_F(Metadata, KeptInTiff) {
  ASSERT_EQ(upscale(dir_.file("out.tiff")).exit_code, 0);
  expect_kept(dir_.file("out.tiff"), icc_profile());
}

TEST_F(Metadata, KeptThroughA16BitPng) {
  // The 16-bit PNG keeps its iCCP as an 8-bit one does.
  const std::string deep = dir_.file("deep.png");
  ASSERT_EQ(upscale(deep).exit_code, 0);
  const std::string deep16 = dir_.file("deep16.png");
  cv::Mat m = cv::imread(deep, cv::IMREAD_UNCHANGED);
  m.convertTo(m, CV_16U, 257.0);
  write_image(deep16, m);
  ASSERT_EQ(run_command({"exiftool", "-q", "-overwrite_original", "-tagsFromFile", deep, "-all:all",
                         "-ICC_Profile", deep16})
                .exit_code,
            0);
  ASSERT_EQ(icc_of(deep16), icc_profile());
  const CliResult r = run_fdiwn({"upscale", "-i", deep16, "-o", dir_.file("out16.png"), "-s", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(cv::imread(dir_.file("out16.png"), cv::IMREAD_UNCHANGED).depth(), CV_16U);
  EXPECT_EQ(icc_of(dir_.file("out16.png")), icc_profile());
  EXPECT_FALSE(png_icc_name(dir_.file("out16.png")).empty());
  EXPECT_EQ(tag(dir_.file("out16.png"), "Make"), "TestCam");
}

// Puts into `file` (with exiftool) a profile for pixels of `space` ("CMYK",
// "GRAY") and returns it.
std::string embed_profile(const std::string& file, const std::string& space) {
  std::string profile = icc_profile();
  profile.replace(16, 4, space);
  const std::string icc = file + ".icc";
  spill(icc, profile);
  const CliResult r =
      run_command({"exiftool", "-q", "-overwrite_original", "-ICC_Profile<=" + icc, file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return profile;
}

TEST_F(Metadata, ACmykProfileIsNotPutOnRgbPixels) {
  // A CMYK JPEG's pixels come out RGB: its CMYK profile would mislead.
  const std::string cmyk = dir_.file("cmyk.jpg");
  std::filesystem::copy_file(data_path("kinds/cmyk.jpg"), cmyk);
  const std::string profile = embed_profile(cmyk, "CMYK");
  ASSERT_EQ(icc_of(cmyk), profile);
  for (const char* ext : {"png", "jpg", "tiff", "webp"}) {
    SCOPED_TRACE(ext);
    const std::string out = dir_.file(std::string("cmyk_out.") + ext);
    const CliResult r = run_fdiwn({"upscale", "-i", cmyk, "-o", out, "-s", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(icc_of(out), "");
    EXPECT_NE(r.err.find("its ICC profile not kept: it is for CMYK pixels, and these are RGB"),
              std::string::npos)
        << r.err;
  }
}

TEST_F(Metadata, AGrayProfileStaysOnGrayPixelsOnly) {
  // WebP stores gray pixels as colour (found in review: the GRAY profile
  // was kept on them).
  const std::string gray = dir_.file("gray.png");
  cv::Mat pixels(16, 24, CV_8UC1);
  cv::randu(pixels, 0, 255);
  ASSERT_TRUE(cv::imwrite(gray, pixels));
  const std::string profile = embed_profile(gray, "GRAY");
  ASSERT_EQ(icc_of(gray), profile);
  for (const auto& [ext, kept] : {std::pair{"png", true}, {"tiff", true}, {"webp", false}}) {
    SCOPED_TRACE(ext);
    const std::string out = dir_.file(std::string("gray_out.") + ext);
    const CliResult r = run_fdiwn({"upscale", "-i", gray, "-o", out, "-s", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(icc_of(out), kept ? profile : "");
    EXPECT_EQ(r.err.find("its ICC profile not kept: it is for GRAY pixels, and these are RGB") ==
                  std::string::npos,
              kept)
        << r.err;
  }
}

TEST_F(Metadata, StripLeavesNone) {
  ASSERT_EQ(upscale(dir_.file("out.jpg"), {"--metadata", "strip"}).exit_code, 0);
  EXPECT_EQ(icc_of(dir_.file("out.jpg")), "");
  EXPECT_EQ(tag(dir_.file("out.jpg"), "Make"), "");
  EXPECT_EQ(tag(dir_.file("out.jpg"), "XMP-dc:Title"), "");
}

TEST_F(Metadata, AFormatThatCannotHoldItSaysSo) {
  const CliResult r = upscale(dir_.file("out.bmp"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto notes = file_record(parse_json(r), "photo.jpg").at("notes").dump();
  EXPECT_NE(notes.find("EXIF, ICC profile, XMP not kept: bmp files cannot hold them"),
            std::string::npos)
      << notes;
}

// Formats that hold no metadata are not asked for it: no note.
TEST_F(Metadata, FormatsWithoutItGiveNoNote) {
  for (const char* name : {"plain.ppm", "plain.bmp"}) {
    SCOPED_TRACE(name);
    write_image(dir_.file(name), picture(10, 8, CV_8UC3));
    const CliResult r = run_fdiwn(
        {"upscale", "-i", dir_.file(name), "-o", dir_.file(name) + ".png", "-s", "2", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(file_record(parse_json(r), name).at("notes").size(), 0u);
  }
}

// Damaged metadata never stops the image, and a note says what was left
// out: an EXIF block whose directory claims 65535 entries in a few bytes,
// and an ICC profile whose header claims more bytes than it has.
TEST_F(Metadata, DamagedMetadataStillUpscales) {
  std::string jpeg = slurp(input_);
  ASSERT_GT(jpeg.size(), 4u);
  const std::string exif("Exif\0\0II*\0\x08\0\0\0\xff\xff\x01\x01", 18);
  std::string app1 = "\xff\xe1";
  app1 += static_cast<char>(0);
  app1 += static_cast<char>(exif.size() + 2);
  app1 += exif;
  const std::string damaged = dir_.file("damaged.jpg");
  spill(damaged, jpeg.substr(0, 2) + app1 + jpeg.substr(2));
  // The note says so (Exiv2 skips the directory without an error).
  const auto noted = [](const CliResult& result, const std::string& name, const std::string& part) {
    const auto notes = file_record(parse_json(result), name).at("notes");
    for (const auto& n : notes) {
      if (n.get<std::string>().find(part) != std::string::npos) return true;
    }
    ADD_FAILURE() << "no note with '" << part << "': " << notes.dump();
    return false;
  };
  CliResult r =
      run_fdiwn({"upscale", "-i", damaged, "-o", dir_.file("d.png"), "-s", "2", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(cv::imread(dir_.file("d.png")).empty());
  EXPECT_TRUE(noted(r, "damaged.jpg", "65535 entries"));

  std::string lying = icc_profile();
  lying[2] = 0x7f;  // 32 KiB claimed
  spill(dir_.file("lying.icc"), lying);
  const std::string liar = dir_.file("liar.jpg");
  write_image(liar, picture(20, 12, CV_8UC3));
  ASSERT_EQ(run_command({"exiftool", "-q", "-overwrite_original",
                         "-ICC_Profile<=" + dir_.file("lying.icc"), liar})
                .exit_code,
            0);
  r = run_fdiwn({"upscale", "-i", liar, "-o", dir_.file("l.png"), "-s", "2", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(cv::imread(dir_.file("l.png")).empty());
  EXPECT_TRUE(noted(r, "liar.jpg", "ICC"));
}

}  // namespace
}  // namespace fdiwn::test
