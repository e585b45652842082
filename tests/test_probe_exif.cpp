// EXIF orientation read from JPEG, PNG, WebP and TIFF, and applied exactly as
// OpenCV's IMREAD_COLOR does.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "fdiwn/errors.hpp"
#include "fdiwn/image_probe.hpp"
#include "probe_builders.hpp"

namespace fdiwn::test {
namespace {

// --- EXIF orientation ------------------------------------------------------------

TEST(ImageProbe, JpegExifOrientationMatchesOpenCv) {
  const cv::Mat stored = pattern(23, 37, CV_8UC3);
  const Bytes jpeg = encode(".jpg", stored, {cv::IMWRITE_JPEG_QUALITY, 95});
  for (bool little : {true, false}) {
    for (int o = 1; o <= 8; ++o) {
      SCOPED_TRACE(std::string(little ? "II" : "MM") + " orientation " + std::to_string(o));
      const Bytes with_exif = jpeg_insert_after_soi(jpeg, exif_app1(exif_block(little, o)));
      const ImageProbe p = probe(with_exif);
      EXPECT_EQ(p.exif_orientation, o);
      EXPECT_EQ(p.width, 37);  // as stored
      const cv::Mat unchanged = cv::imdecode(with_exif, cv::IMREAD_UNCHANGED);
      const cv::Mat colour = cv::imdecode(with_exif, cv::IMREAD_COLOR);
      ASSERT_EQ(unchanged.size(), cv::Size(37, 23));
      EXPECT_EQ(orientation_to_apply(p), o);
      const cv::Mat oriented = apply_exif_orientation(unchanged, orientation_to_apply(p));
      EXPECT_TRUE(identical(oriented, colour));
      EXPECT_TRUE(identical(oriented, reference_orientation(unchanged, o)));
      EXPECT_EQ(oriented.cols, o >= 5 ? 23 : 37);
    }
  }
}

TEST(ImageProbe, MalformedExifMeansOrientationOne) {
  const Bytes jpeg = encode(".jpg", pattern(9, 11, CV_8UC3));
  const auto orientation = [&](const Bytes& app1) {
    return probe(jpeg_insert_after_soi(jpeg, app1)).exif_orientation;
  };
  EXPECT_EQ(orientation(exif_app1(exif_block(true, 0))), 1);
  EXPECT_EQ(orientation(exif_app1(exif_block(false, 9))), 1);
  EXPECT_EQ(orientation(exif_app1(exif_block(true, 6, 2))), 1);  // ASCII, not SHORT
  EXPECT_EQ(orientation(exif_app1(exif_block(true, 6, 4))), 6);  // LONG is accepted
  EXPECT_EQ(orientation(exif_app1({})), 1);
  EXPECT_EQ(orientation(jpeg_segment(0xE1, lit("Exif\0\0II*\0"))), 1);
  EXPECT_EQ(orientation(exif_app1(lit("II*\0\xFF\xFF\xFF\xFF"))), 1);
  EXPECT_EQ(orientation(exif_app1(lit("MM\0*\0\0\0\x08\xFF\xFF"))), 1);
  EXPECT_EQ(orientation(exif_app1(lit("MM\0+\0\x08\0\0"))), 1);
  Bytes cut = exif_block(true, 6);
  cut.resize(cut.size() - 20);  // the directory runs past the end
  EXPECT_EQ(orientation(exif_app1(cut)), 1);
  // An orientation stored at an offset (3 values): the first one counts.
  const Bytes offset =
      make_tiff(true, false, {{0x0112, 3, 3, tiff_data_at(false, 1)}}, {3, 0, 1, 0, 1, 0});
  EXPECT_EQ(orientation(exif_app1(offset)), 3);
  // An XMP APP1 before the EXIF one: the EXIF one still counts.
  const Bytes xmp = jpeg_segment(0xE1, lit("http://ns.adobe.com/xap/1.0/\0<x/>"));
  const Bytes xmp_first =
      jpeg_insert_after_soi(jpeg_insert_after_soi(jpeg, exif_app1(exif_block(true, 8))), xmp);
  EXPECT_EQ(probe(xmp_first).exif_orientation, 8);
  // OpenCV 4.6 only looks at the first APP1, and so misses it.
  EXPECT_EQ(cv::imdecode(xmp_first, cv::IMREAD_COLOR).cols, 11);
}

TEST(ImageProbe, PngExifChunk) {
  const cv::Mat stored = pattern(23, 37, CV_8UC3);
  const Bytes png =
      png_insert_after_ihdr(encode(".png", stored), png_chunk("eXIf", exif_block(false, 6)));
  const ImageProbe p = probe(png);
  EXPECT_EQ(p.exif_orientation, 6);
  const cv::Mat unchanged = cv::imdecode(png, cv::IMREAD_UNCHANGED);
  EXPECT_TRUE(identical(unchanged, stored));
  EXPECT_TRUE(identical(apply_exif_orientation(unchanged, 6), cv::imdecode(png, cv::IMREAD_COLOR)));
  // A damaged ancillary chunk is dropped, as libpng drops it.
  Bytes bad_crc = png;
  bad_crc[png_find(png, "eXIf") + 8 + 10] ^= 1;
  EXPECT_EQ(probe(bad_crc).exif_orientation, 1);
}

TEST(ImageProbe, WebPExifChunk) {
  // Rewrap a lossy WebP (one VP8 chunk) as VP8X + VP8 + EXIF.
  const cv::Mat stored = pattern(23, 37, CV_8UC3);
  const Bytes simple = encode(".webp", stored, {cv::IMWRITE_WEBP_QUALITY, 80});
  ASSERT_EQ(std::string(simple.begin() + 12, simple.begin() + 16), "VP8 ");
  const Bytes exif = concat(lit("Exif\0\0"), exif_block(true, 3));
  Writer riff{true, {}};
  riff.raw("VP8X");
  riff.u32(10);
  riff.u32(0x08);  // flags: EXIF; 3 reserved bytes
  riff.put(36, 3);
  riff.put(22, 3);
  riff.raw(Bytes(simple.begin() + 12, simple.end()));
  riff.raw("EXIF");
  riff.u32(exif.size());
  riff.raw(exif);
  if (exif.size() % 2) riff.u8(0);
  Writer head{true, {}};
  head.raw("RIFF");
  head.u32(riff.b.size() + 4);
  head.raw("WEBP");
  const Bytes webp = concat(head.b, riff.b);
  const ImageProbe p = probe(webp);
  EXPECT_EQ(p.exif_orientation, 3);
  EXPECT_EQ(p.width, 37);
  const cv::Mat unchanged = cv::imdecode(webp, cv::IMREAD_UNCHANGED);
  EXPECT_TRUE(identical(unchanged, cv::imdecode(simple, cv::IMREAD_UNCHANGED)));
  // OpenCV 4.6 ignores WebP's EXIF even for IMREAD_COLOR.
  EXPECT_TRUE(identical(cv::imdecode(webp, cv::IMREAD_COLOR), unchanged));
  EXPECT_EQ(orientation_to_apply(p), 3);
}

TEST(ImageProbe, TiffOrientationIsAppliedByOpenCvItself) {
  // Unlike JPEG and PNG, OpenCV 4.6's TIFF decoder applies the Orientation
  // tag even for IMREAD_UNCHANGED: orientation_to_apply must then be 1.
  const cv::Mat stored = pattern(5, 7, CV_8UC1);
  for (bool little : {true, false}) {
    for (bool big : {false, true}) {
      for (int o = 1; o <= 8; ++o) {
        SCOPED_TRACE(std::to_string(o) + (little ? " II" : " MM") + (big ? " BigTIFF" : ""));
        const Bytes tiff = gray_tiff(little, big, stored, o);
        const ImageProbe p = probe(tiff);
        EXPECT_EQ(p.exif_orientation, o);
        EXPECT_EQ(orientation_to_apply(p), 1);
        const cv::Mat unchanged = cv::imdecode(tiff, cv::IMREAD_UNCHANGED);
        EXPECT_TRUE(identical(unchanged, reference_orientation(stored, o)));
      }
    }
  }
}

TEST(ImageProbe, ApplyExifOrientationOnAnyType) {
  for (int type : {CV_8UC1, CV_8UC3, CV_16UC4, CV_32FC3}) {
    const cv::Mat image = pattern(3, 5, type);
    for (int o = 1; o <= 8; ++o) {
      SCOPED_TRACE("type " + std::to_string(type) + ", orientation " + std::to_string(o));
      EXPECT_TRUE(identical(apply_exif_orientation(image, o), reference_orientation(image, o)));
    }
  }
  const cv::Mat image = pattern(3, 5, CV_8UC1);
  EXPECT_EQ(apply_exif_orientation(image, 1).data, image.data);
  EXPECT_THROW(apply_exif_orientation(image, 0), InvalidArgument);
  EXPECT_THROW(apply_exif_orientation(image, 9), InvalidArgument);
}

}  // namespace
}  // namespace fdiwn::test
