// Image header probing of damaged files: truncated and broken PNG/JPEG
// refused with a clear reason, decompression bombs measured without
// decoding, and random damage never answered with anything but ImageError.
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

// --- Truncated and broken files ------------------------------------------------

TEST(ImageProbe, TruncatedPngIsRefused) {
  const Bytes png = encode(".png", pattern(23, 37, CV_8UC3));
  const size_t idat = png_find(png, "IDAT");
  ASSERT_GT(idat, 0u);
  for (size_t cut : {size_t{1}, size_t{4}, size_t{8}, size_t{12}, size_t{20}, size_t{33}, idat + 6,
                     idat + 20, png.size() - 12, png.size() - 4, png.size() - 1}) {
    expect_truncated("PNG cut", prefix(png, cut));
  }
}

TEST(ImageProbe, TruncatedJpegIsRefused) {
  const Bytes jpeg = encode(".jpg", pattern(23, 37, CV_8UC3));
  const size_t sos = jpeg_find(jpeg, 0xDA);
  ASSERT_GT(sos, 0u);
  for (size_t cut : {size_t{2}, size_t{3}, size_t{5}, size_t{30}, sos, sos + 8, sos + 100,
                     jpeg.size() - 2, jpeg.size() - 1}) {
    expect_truncated("JPEG cut", prefix(jpeg, cut));
  }
  // Why this matters: OpenCV decodes a JPEG cut in its image data, silently,
  // into a full-size image.
  EXPECT_EQ(cv::imdecode(prefix(jpeg, sos + 100), cv::IMREAD_UNCHANGED).size(), cv::Size(37, 23));
}

TEST(ImageProbe, EveryProperPrefixOfPngAndJpegIsTruncated) {
  const cv::Mat bgr = pattern(9, 11, CV_8UC3);
  const std::vector<std::pair<std::string, Bytes>> files = {
      {"png", encode(".png", bgr)},
      {"jpeg", encode(".jpg", bgr)},
      {"progressive jpeg", encode(".jpg", bgr, {cv::IMWRITE_JPEG_PROGRESSIVE, 1})},
      {"jpeg with exif",
       jpeg_insert_after_soi(encode(".jpg", bgr), exif_app1(exif_block(true, 6)))}};
  for (const auto& [name, bytes] : files) {
    SCOPED_TRACE(name);
    EXPECT_EQ(refusal(bytes), "");
    for (size_t n = name == "png" ? 1 : 2; n < bytes.size(); ++n) {
      const std::string reason = refusal(prefix(bytes, n));
      if (!contains(reason, "truncated")) {
        ADD_FAILURE() << n << " of " << bytes.size() << " bytes: '" << reason << "'";
        break;
      }
    }
  }
}

TEST(ImageProbe, DataAfterTheEndIsAccepted) {
  const cv::Mat bgr = pattern(9, 11, CV_8UC3);
  const Bytes garbage = bytes_of("trailing \xFF\xD8\xFF garbage");
  EXPECT_EQ(probe(concat(encode(".jpg", bgr), garbage)).width, 11);
  EXPECT_EQ(probe(concat(encode(".png", bgr), garbage)).width, 11);
}

TEST(ImageProbe, BrokenPngIsRefused) {
  const Bytes png = encode(".png", pattern(9, 11, CV_8UC3));
  // A text-mode transfer turned CR LF into LF.
  Bytes text_mode = png;
  text_mode.erase(text_mode.begin() + 4);
  expect_refused("signature", text_mode, "signature");
  const size_t idat = png_find(png, "IDAT");
  expect_refused("IDAT first", concat(kPngSignature, Bytes(png.begin() + idat, png.end())), "IHDR");
  Bytes bad_crc = png;
  bad_crc[idat + 10] ^= 0x01;
  expect_refused("IDAT damaged", bad_crc, "CRC");
  Bytes bad_type = png;
  bad_type[png.size() - 7] = '1';  // IEND -> I1ND
  expect_refused("chunk type", bad_type, "chunk type");
  expect_refused("no IDAT", concat(prefix(png, 33), png_chunk("IEND", {})), "IDAT");
  expect_refused("bad depth", make_png(1, 1, 3, 2, {{1, 2, 3}}), "bit depth");
  expect_refused("palette without PLTE", make_png(1, 1, 8, 3, {{0}}), "PLTE");
}

TEST(ImageProbe, BrokenJpegIsRefused) {
  const Bytes jpeg = encode(".jpg", pattern(9, 11, CV_8UC3));
  const size_t sof = jpeg_find(jpeg, 0xC0);
  const size_t sof_end = sof + 2 + ((jpeg[sof + 2] << 8) | jpeg[sof + 3]);
  Bytes no_sof = prefix(jpeg, sof);
  no_sof.insert(no_sof.end(), jpeg.begin() + sof_end, jpeg.end());
  expect_refused("no SOF", no_sof, "SOF");
  Bytes zero_height = jpeg;
  zero_height[sof + 5] = zero_height[sof + 6] = 0;
  expect_refused("zero height", zero_height, "zero");
  expect_refused("no SOI", Bytes(jpeg.begin() + 2, jpeg.end()), "no start-of-image");
  expect_refused("EOI first", Bytes{0xFF, 0xD8, 0xFF, 0xD9}, "before any image data");
  Bytes bad_length = prefix(jpeg, 4);
  bad_length[2] = 0xFF;
  bad_length[3] = 0xE0;
  bad_length = concat(bad_length, Bytes{0, 1, 0, 0});
  expect_refused("segment length 1", bad_length, "invalid length");
  // The end marker cut off and other data appended: still no EOI.
  expect_truncated("EOI replaced", concat(prefix(jpeg, jpeg.size() - 2), bytes_of("more data")));
}

TEST(ImageProbe, NotAnImageIsRefused) {
  expect_refused("empty", {}, "empty");
  expect_refused("text", bytes_of("Hello, this is not an image.\n"),
                 "unknown format (the file looks like text)");
  expect_refused("html", bytes_of("<!DOCTYPE html><html>404</html>"), "looks like text");
  const Bytes binary = {0x00, 0x01, 0x02, 0x03, 0xFE, 0x10};
  EXPECT_EQ(refusal(binary), "not a supported image: unknown format");
  expect_refused("gif", lit("GIF89a\x01\x00\x01\x00"), "GIF");
  expect_refused("text starting with BM", bytes_of("BMW cars are fast\n"), "unknown format");
  expect_refused("one byte", {0xFF}, "unknown format");
  expect_refused("PNM without size", bytes_of("P6\n37"), "truncated PNM header");
  expect_refused("PNM zero width", bytes_of("P6\n0 5\n255\n"), "zero");
  expect_refused("WebP without chunk", lit("RIFF\x04\x00\x00\x00WEBP"), "truncated WebP");
  expect_refused("TIFF directory outside", lit("II*\0\xFF\0\0\0"), "truncated TIFF");
}

// --- Decompression bombs ---------------------------------------------------------

TEST(ImageProbe, HugeClaimedSizesAreReportedWithoutDecoding) {
  const auto start = std::chrono::steady_clock::now();
  const Bytes png = png_with_size(encode(".png", pattern(23, 37, CV_8UC1)), 100000, 100000);
  const ImageProbe p = probe(png);
  EXPECT_EQ(p.width, 100000);
  EXPECT_EQ(p.height, 100000);
  expect_refused("PNG 2^31", png_with_size(png, 0x80000000u, 1), "beyond");
  expect_refused("PNG zero", png_with_size(png, 0, 10), "zero");

  Bytes jpeg = encode(".jpg", pattern(23, 37, CV_8UC3));
  const size_t sof = jpeg_find(jpeg, 0xC0);
  for (size_t i = 5; i < 9; ++i) jpeg[sof + i] = 0xFF;
  EXPECT_EQ(probe(jpeg).width, 65535);

  Bytes webp = encode(".webp", pattern(23, 37, CV_8UC4), {cv::IMWRITE_WEBP_QUALITY, 80});
  for (size_t i = 24; i < 30; ++i) webp[i] = 0xFF;  // VP8X canvas: 2^24 x 2^24
  EXPECT_EQ(probe(webp).height, 1 << 24);

  EXPECT_EQ(probe(bytes_of("P6\n100000 100000\n255\nxyz")).width, 100000);
  Writer bmp{true, {}};
  bmp.raw("BM");
  for (uint64_t v : {0, 0, 54, 40, 2000000000, 2000000000}) bmp.u32(v);
  bmp.u16(1);
  bmp.u16(24);
  EXPECT_EQ(probe(bmp.b).width, 2000000000);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// --- Robustness ------------------------------------------------------------------

TEST(ImageProbe, RandomDamageOnlyEverThrowsImageError) {
  const cv::Mat bgr = pattern(9, 11, CV_8UC3);
  const std::vector<Bytes> samples = {
      encode(".png", bgr),
      png_insert_after_ihdr(encode(".png", bgr), png_chunk("eXIf", exif_block(false, 6))),
      jpeg_insert_after_soi(encode(".jpg", bgr), exif_app1(exif_block(true, 6))),
      encode(".jpg", bgr, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}),
      encode(".webp", pattern(9, 11, CV_8UC4), {cv::IMWRITE_WEBP_QUALITY, 80}),
      encode(".webp", bgr),
      encode(".bmp", pattern(9, 11, CV_8UC1)),
      encode(".tiff", bgr),
      gray_tiff(false, true, pattern(3, 4, CV_8UC1), 6),
      encode(".pam", bgr),
      encode(".pfm", pattern(3, 4, CV_32FC1))};
  std::mt19937 rng(12345);
  for (size_t s = 0; s < samples.size(); ++s) {
    SCOPED_TRACE("sample " + std::to_string(s));
    const Bytes& original = samples[s];
    EXPECT_EQ(refusal(original), "");
    for (int round = 0; round < 3000; ++round) {
      Bytes damaged = original;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        const size_t at = rng() % damaged.size();
        switch (rng() % 4) {
          case 0:
            damaged[at] = static_cast<unsigned char>(rng());
            break;
          case 1:
            damaged[at] ^= static_cast<unsigned char>(1u << (rng() % 8));
            break;
          case 2:
            damaged[at] = (rng() % 2) ? 0xFF : 0x00;
            break;
          default:
            damaged.resize(std::max<size_t>(1, at));
            break;
        }
      }
      refusal(damaged);  // accepted or ImageError; anything else escapes
    }
  }
}

}  // namespace
}  // namespace fdiwn::test
