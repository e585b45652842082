// Image header probing of real encodes: format, size, channels and depth,
// and the channels OpenCV decodes to (which are not always the stored ones).
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

// --- Formats -----------------------------------------------------------------

TEST(ImageProbe, Png) {
  const auto png = [](int type, std::vector<int> params = {}) {
    return encode(".png", pattern(23, 37, type), params);
  };
  expect_probe("gray 8", png(CV_8UC1), ImageFormat::Png, 37, 23, 1, 8);
  expect_probe("bgr 8", png(CV_8UC3), ImageFormat::Png, 37, 23, 3, 8);
  expect_probe("bgra 8", png(CV_8UC4), ImageFormat::Png, 37, 23, 4, 8, true);
  expect_probe("gray 16", png(CV_16UC1), ImageFormat::Png, 37, 23, 1, 16);
  expect_probe("bgr 16", png(CV_16UC3), ImageFormat::Png, 37, 23, 3, 16);
  expect_probe("bgra 16", png(CV_16UC4), ImageFormat::Png, 37, 23, 4, 16, true);
  expect_probe("bilevel", png(CV_8UC1, {cv::IMWRITE_PNG_BILEVEL, 1}), ImageFormat::Png, 37, 23, 1,
               1);
  EXPECT_FALSE(probe(png(CV_8UC3)).palette);
  // An APNG's animation control chunk.
  const Bytes actl = png_chunk("acTL", {0, 0, 0, 1, 0, 0, 0, 0});
  EXPECT_TRUE(probe(png_insert_after_ihdr(png(CV_8UC3), actl)).more_images);
  EXPECT_FALSE(probe(png(CV_8UC3)).more_images);
}

TEST(ImageProbe, Jpeg) {
  const cv::Mat bgr = pattern(23, 37, CV_8UC3);
  expect_probe("colour", encode(".jpg", bgr), ImageFormat::Jpeg, 37, 23, 3, 8);
  expect_probe("gray", encode(".jpg", pattern(23, 37, CV_8UC1)), ImageFormat::Jpeg, 37, 23, 1, 8);
  expect_probe("progressive", encode(".jpg", bgr, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}),
               ImageFormat::Jpeg, 37, 23, 3, 8);
  expect_probe("restart markers", encode(".jpg", bgr, {cv::IMWRITE_JPEG_RST_INTERVAL, 1}),
               ImageFormat::Jpeg, 37, 23, 3, 8);
  EXPECT_FALSE(probe(encode(".jpg", bgr)).cmyk);
}

TEST(ImageProbe, WebP) {
  const cv::Mat bgr = pattern(23, 37, CV_8UC3), bgra = pattern(23, 37, CV_8UC4);
  const std::vector<int> lossy = {cv::IMWRITE_WEBP_QUALITY, 80};
  expect_probe("lossy (VP8)", encode(".webp", bgr, lossy), ImageFormat::WebP, 37, 23, 3, 8);
  expect_probe("lossy + alpha (VP8X)", encode(".webp", bgra, lossy), ImageFormat::WebP, 37, 23, 4,
               8, true);
  expect_probe("lossless (VP8L)", encode(".webp", bgr), ImageFormat::WebP, 37, 23, 3, 8);
  expect_probe("lossless + alpha", encode(".webp", bgra), ImageFormat::WebP, 37, 23, 4, 8, true);
  const Bytes vp8x = encode(".webp", bgra, lossy);
  EXPECT_EQ(std::string(vp8x.begin() + 12, vp8x.begin() + 16), "VP8X");
}

TEST(ImageProbe, Bmp) {
  expect_probe("bgr", encode(".bmp", pattern(23, 37, CV_8UC3)), ImageFormat::Bmp, 37, 23, 3, 8);
  // OpenCV 4.6 writes BGRA as 32 bits per pixel without an alpha mask, and
  // reads any 32-bit BMP as BGR.
  expect_probe("bgra", encode(".bmp", pattern(23, 37, CV_8UC4)), ImageFormat::Bmp, 37, 23, 3, 8);
  // A 5x3, 32-bit BMP header (V5) with an alpha mask: then the alpha counts.
  Bytes v5 = lit("BM\0\0\0\0\0\0\0\0\0\0\0\0\x7C\0\0\0\x05\0\0\0\x03\0\0\0\x01\0\x20\0");
  v5.resize(14 + 124, 0);
  v5[14 + 52 + 3] = 0xFF;  // alpha mask 0xFF000000
  EXPECT_EQ(probe(v5).channels, 4);
  EXPECT_TRUE(probe(v5).transparency);
  // OpenCV writes gray as 8 bits per pixel with a palette of grays.
  const Bytes gray = encode(".bmp", pattern(23, 37, CV_8UC1));
  expect_probe("gray", gray, ImageFormat::Bmp, 37, 23, 1, 8);
  EXPECT_TRUE(probe(gray).palette);
}

TEST(ImageProbe, Tiff) {
  const auto tiff = [](int type) { return encode(".tiff", pattern(23, 37, type)); };
  expect_probe("gray 8", tiff(CV_8UC1), ImageFormat::Tiff, 37, 23, 1, 8);
  expect_probe("bgr 8", tiff(CV_8UC3), ImageFormat::Tiff, 37, 23, 3, 8);
  expect_probe("bgra 8", tiff(CV_8UC4), ImageFormat::Tiff, 37, 23, 4, 8, true);
  expect_probe("gray 16", tiff(CV_16UC1), ImageFormat::Tiff, 37, 23, 1, 16);
  expect_probe("bgr 16", tiff(CV_16UC3), ImageFormat::Tiff, 37, 23, 3, 16);
  expect_probe("float", tiff(CV_32FC1), ImageFormat::Tiff, 37, 23, 1, 32);
  const cv::Mat gray = pattern(5, 7, CV_8UC1);
  for (bool little : {true, false}) {
    for (bool big : {false, true}) {
      const Bytes hand = gray_tiff(little, big, gray, 1);
      expect_probe(std::string("hand-made ") + (little ? "II" : "MM") + (big ? " BigTIFF" : ""),
                   hand, ImageFormat::Tiff, 7, 5, 1, 8);
      EXPECT_TRUE(identical(cv::imdecode(hand, cv::IMREAD_UNCHANGED), gray));
      EXPECT_FALSE(probe(hand).more_images);  // one directory (test_image_reading: two)
    }
  }
}

TEST(ImageProbe, Pnm) {
  const cv::Mat bgr = pattern(23, 37, CV_8UC3), gray = pattern(23, 37, CV_8UC1);
  expect_probe("ppm", encode(".ppm", bgr), ImageFormat::Pnm, 37, 23, 3, 8);
  expect_probe("plain ppm", encode(".ppm", bgr, {cv::IMWRITE_PXM_BINARY, 0}), ImageFormat::Pnm, 37,
               23, 3, 8);
  expect_probe("pgm", encode(".pgm", gray), ImageFormat::Pnm, 37, 23, 1, 8);
  expect_probe("pgm 16", encode(".pgm", pattern(23, 37, CV_16UC1)), ImageFormat::Pnm, 37, 23, 1,
               16);
  expect_probe("pbm", encode(".pbm", gray), ImageFormat::Pnm, 37, 23, 1, 1);
  // OpenCV 4.6 cannot read back a 4-channel PAM it wrote without TUPLTYPE.
  expect_probe("pam",
               encode(".pam", pattern(23, 37, CV_8UC4),
                      {cv::IMWRITE_PAM_TUPLETYPE, cv::IMWRITE_PAM_FORMAT_RGB_ALPHA}),
               ImageFormat::Pnm, 37, 23, 4, 8, true);
  expect_probe("pfm", encode(".pfm", pattern(23, 37, CV_32FC3)), ImageFormat::Pnm, 37, 23, 3, 32);
  expect_probe("comments", bytes_of("P5 # a comment\n#another\n 3 2 255\n123456"), ImageFormat::Pnm,
               3, 2, 1, 8);
}

TEST(ImageProbe, OtherFormatsOpenCvReads) {
  for (const char* ext : {".jp2", ".ras"}) {
    SCOPED_TRACE(ext);
    // OpenJPEG refuses to encode images much smaller than this.
    const ImageProbe p = probe(encode(ext, pattern(64, 72, CV_8UC3)));
    EXPECT_EQ(p.format, ImageFormat::Other);
    EXPECT_EQ(p.width, 72);
    EXPECT_EQ(p.height, 64);
  }
  // A raw JPEG 2000 codestream: SIZ gives Xsiz, Ysiz and the image offset.
  Bytes siz = {0xFF, 0x4F, 0xFF, 0x51, 0, 41, 0, 0};
  for (uint32_t v : {1000u, 800u, 10u, 20u}) {
    for (int shift : {24, 16, 8, 0}) siz.push_back(static_cast<unsigned char>(v >> shift));
  }
  const ImageProbe c = probe(siz);
  EXPECT_EQ(c.format, ImageFormat::Other);
  EXPECT_EQ(c.width, 990);
  EXPECT_EQ(c.height, 780);
}

TEST(ImageProbe, HugeJpeg2000IsSizedFromItsHeader) {
  // A JP2 whose ihdr claims 100000x100000: --max-pixels can refuse it unread.
  Bytes jp2 = encode(".jp2", pattern(64, 72, CV_8UC3));
  bool patched = false;
  for (size_t i = 0; i + 12 < jp2.size() && !patched; ++i) {
    if (jp2[i] == 'i' && jp2[i + 1] == 'h' && jp2[i + 2] == 'd' && jp2[i + 3] == 'r') {
      for (size_t k = 4; k < 12; k += 4) {
        jp2[i + k] = 0x00, jp2[i + k + 1] = 0x01, jp2[i + k + 2] = 0x86, jp2[i + k + 3] = 0xA0;
      }
      patched = true;
    }
  }
  ASSERT_TRUE(patched);
  const ImageProbe p = probe(jp2);
  EXPECT_EQ(p.width, 100000);
  EXPECT_EQ(p.height, 100000);
}

TEST(ImageProbe, FormatsTheToolRefusesFromTheirSignature) {
  // OpenEXR and Radiance HDR (floating point), DICOM (OpenCV's reader can
  // abort the process on a damaged file: found by fuzz_image).
  const Bytes dicom = concat(Bytes(128, 0), bytes_of("DICM...."));
  const Bytes hdr = encode(".hdr", pattern(16, 16, CV_32FC3));
  for (const Bytes& b : {Bytes{0x76, 0x2F, 0x31, 0x01, 2, 0}, hdr, dicom}) {
    try {
      probe(b);
      ADD_FAILURE() << "no error";
    } catch (const ImageError& e) {
      EXPECT_NE(std::string(e.what()).find("not a supported image"), std::string::npos) << e.what();
    }
  }
  // A truncated JP2 or codestream: refused, not guessed.
  EXPECT_THROW(probe(Bytes{0xFF, 0x4F, 0xFF, 0x51, 0, 41}), ImageError);
  const Bytes jp2 = encode(".jp2", pattern(64, 72, CV_8UC3));
  EXPECT_THROW(probe(Bytes(jp2.begin(), jp2.begin() + 20)), ImageError);
}

// --- Channels OpenCV decodes to, which are not always the stored ones ---------

TEST(ImageProbe, PaletteWithTransparency) {
  // 4x2 pixels, 8-bit indices into 4 colours, the last two partly transparent.
  const Bytes plte = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
  const Bytes trns = {255, 255, 0, 128};
  const Bytes png = make_png(4, 2, 8, 3, {{0, 1, 2, 3}, {3, 2, 1, 0}},
                             {png_chunk("PLTE", plte), png_chunk("tRNS", trns)});
  const ImageProbe p = probe(png);
  EXPECT_TRUE(p.palette);
  EXPECT_TRUE(p.transparency);
  // OpenCV expands a palette with tRNS to BGRA.
  expect_probe("palette + tRNS", png, ImageFormat::Png, 4, 2, 3, 8, true, 4);
  const cv::Mat decoded = cv::imdecode(png, cv::IMREAD_UNCHANGED);
  ASSERT_EQ(decoded.type(), CV_8UC4);
  EXPECT_EQ(decoded.at<cv::Vec4b>(0, 0), cv::Vec4b(0, 0, 255, 255));
  EXPECT_EQ(decoded.at<cv::Vec4b>(0, 2), cv::Vec4b(255, 0, 0, 0));
  EXPECT_EQ(decoded.at<cv::Vec4b>(1, 0), cv::Vec4b(30, 20, 10, 128));

  // Without tRNS, and with 2-bit indices: plain BGR.
  const Bytes two_bit = make_png(4, 1, 2, 3, {{0x1B}}, {png_chunk("PLTE", plte)});
  expect_probe("2-bit palette", two_bit, ImageFormat::Png, 4, 1, 3, 2, false, 3);
  EXPECT_EQ(cv::imdecode(two_bit, cv::IMREAD_UNCHANGED).at<cv::Vec3b>(0, 3), cv::Vec3b(30, 20, 10));
}

TEST(ImageProbe, PngChannelsOpenCvDecodesTo) {
  // Gray + alpha is stored with 2 channels but decoded to BGRA.
  expect_probe("gray+alpha", make_png(2, 1, 8, 4, {{10, 255, 20, 0}}), ImageFormat::Png, 2, 1, 2, 8,
               true, 4);
  // RGB with a tRNS colour key: decoded to BGRA.
  const Bytes key = {0, 10, 0, 20, 0, 30};
  expect_probe("rgb + tRNS", make_png(1, 1, 8, 2, {{10, 20, 30}}, {png_chunk("tRNS", key)}),
               ImageFormat::Png, 1, 1, 3, 8, true, 4);
  // Gray with a tRNS key: stays one channel, the transparency is lost.
  expect_probe("gray + tRNS", make_png(1, 1, 8, 0, {{7}}, {png_chunk("tRNS", {0, 7})}),
               ImageFormat::Png, 1, 1, 1, 8, true, 1);
}

TEST(ImageProbe, CmykAndTwelveBitJpegHeaders) {
  // Header-level only (no real entropy data): the prober does not decode.
  Writer sof;
  for (int v : {8, 0, 5, 0, 7, 4}) sof.u8(static_cast<uint64_t>(v));
  for (int c = 1; c <= 4; ++c) sof.raw(Bytes{static_cast<unsigned char>(c), 0x11, 0});
  Writer sos;
  sos.u8(4);
  for (int c = 1; c <= 4; ++c) sos.raw(Bytes{static_cast<unsigned char>(c), 0});
  sos.raw(Bytes{0, 63, 0});
  const Bytes adobe = lit("Adobe\0\x64\0\0\0\0\x02");
  Bytes jpeg = concat(Bytes{0xFF, 0xD8}, jpeg_segment(0xEE, adobe));
  jpeg = concat(jpeg, jpeg_segment(0xC0, sof.b));
  jpeg = concat(jpeg, jpeg_segment(0xDA, sos.b));
  jpeg = concat(jpeg, Bytes{0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0xD9});
  const ImageProbe p = probe(jpeg);
  EXPECT_EQ(p.format, ImageFormat::Jpeg);
  EXPECT_EQ(p.width, 7);
  EXPECT_EQ(p.height, 5);
  EXPECT_EQ(p.channels, 4);
  EXPECT_TRUE(p.cmyk);

  Bytes twelve = encode(".jpg", pattern(8, 8, CV_8UC1));
  twelve[jpeg_find(twelve, 0xC0) + 4] = 12;
  EXPECT_EQ(probe(twelve).bit_depth, 12);
}

}  // namespace
}  // namespace fdiwn::test
