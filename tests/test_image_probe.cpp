// Image header probing: format, size, channels and depth of real encodes;
// truncated and broken PNG/JPEG refused with a clear reason; decompression
// bombs measured without decoding; EXIF orientation read from JPEG, PNG, WebP
// and TIFF and applied exactly as OpenCV's IMREAD_COLOR does; and random
// damage never answered with anything but ImageError.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "fdiwn/errors.hpp"
#include "fdiwn/image_probe.hpp"

namespace fdiwn::test {
namespace {

using Bytes = std::vector<unsigned char>;

// --- Building test images ----------------------------------------------------

// Random pixels, the same on every run, so that any flip or transpose shows.
cv::Mat pattern(int rows, int cols, int type) {
  cv::Mat m(rows, cols, type);
  cv::RNG rng(static_cast<uint64_t>(rows * 1000 + cols + type));
  const double high = CV_MAT_DEPTH(type) == CV_16U ? 65536 : CV_MAT_DEPTH(type) == CV_32F ? 1 : 256;
  rng.fill(m, cv::RNG::UNIFORM, 0, high);
  return m;
}

Bytes encode(const std::string& ext, const cv::Mat& image, const std::vector<int>& params = {}) {
  Bytes out;
  EXPECT_TRUE(cv::imencode(ext, image, out, params)) << ext;
  return out;
}

Bytes bytes_of(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

// The bytes of a string literal, embedded NULs included, without the final NUL.
template <size_t N>
Bytes lit(const char (&s)[N]) {
  return Bytes(s, s + N - 1);
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes prefix(const Bytes& b, size_t n) {
  return Bytes(b.begin(), b.begin() + std::min(n, b.size()));
}

// Appends integers in one byte order (TIFF and EXIF use both; PNG and JPEG big-endian).
struct Writer {
  bool little = false;
  Bytes b;
  void u8(uint64_t v) { b.push_back(static_cast<unsigned char>(v)); }
  void put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) u8(v >> (8 * (little ? i : n - 1 - i)));
  }
  void u16(uint64_t v) { put(v, 2); }
  void u32(uint64_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void raw(const Bytes& r) { b.insert(b.end(), r.begin(), r.end()); }
  void raw(const std::string& r) { b.insert(b.end(), r.begin(), r.end()); }
};

// CRC-32 of PNG chunks and Adler-32 of zlib streams, bit by bit (slow and obvious).
uint32_t crc32(const unsigned char* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return ~c;
}

uint32_t adler32(const Bytes& d) {
  uint32_t a = 1, b = 0;
  for (unsigned char c : d) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

Bytes png_chunk(const std::string& type, const Bytes& data) {
  Writer w;
  w.u32(data.size());
  w.raw(type);
  w.raw(data);
  w.u32(crc32(w.b.data() + 4, w.b.size() - 4));
  return w.b;
}

// A zlib stream holding `raw` in one stored (uncompressed) deflate block.
Bytes zlib_stored(const Bytes& raw) {
  Writer w;
  w.u8(0x78);
  w.u8(0x01);
  w.u8(0x01);  // final block, stored
  w.little = true;
  w.u16(raw.size());
  w.u16(~raw.size() & 0xFFFF);
  w.raw(raw);
  w.little = false;
  w.u32(adler32(raw));
  return w.b;
}

const Bytes kPngSignature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

// A PNG made by hand: `rows` are the raw scanlines without filter bytes, and
// `extra` chunks go between IHDR and IDAT.
Bytes make_png(uint32_t width, uint32_t height, int depth, int colour_type,
               const std::vector<Bytes>& rows, const std::vector<Bytes>& extra = {}) {
  Writer ihdr;
  ihdr.u32(width);
  ihdr.u32(height);
  for (int v : {depth, colour_type, 0, 0, 0}) ihdr.u8(static_cast<uint64_t>(v));
  Bytes raw;
  for (const Bytes& row : rows) raw = concat(concat(raw, {0}), row);  // filter 0
  Bytes png = concat(kPngSignature, png_chunk("IHDR", ihdr.b));
  for (const Bytes& chunk : extra) png = concat(png, chunk);
  png = concat(png, png_chunk("IDAT", zlib_stored(raw)));
  return concat(png, png_chunk("IEND", {}));
}

// Offset of the first chunk `type` of a PNG, or 0.
size_t png_find(const Bytes& png, const std::string& type) {
  for (size_t pos = 8; pos + 8 <= png.size();) {
    const uint32_t len =
        (uint32_t{png[pos]} << 24) | (png[pos + 1] << 16) | (png[pos + 2] << 8) | png[pos + 3];
    if (std::string(png.begin() + pos + 4, png.begin() + pos + 8) == type) return pos;
    pos += 12 + len;
  }
  return 0;
}

// Rewrites the IHDR size of a PNG and fixes its CRC.
Bytes png_with_size(Bytes png, uint32_t width, uint32_t height) {
  Writer w;
  w.u32(width);
  w.u32(height);
  std::copy(w.b.begin(), w.b.end(), png.begin() + 16);
  Writer crc;
  crc.u32(crc32(png.data() + 12, 17));
  std::copy(crc.b.begin(), crc.b.end(), png.begin() + 29);
  return png;
}

Bytes png_insert_after_ihdr(const Bytes& png, const Bytes& chunk) {
  Bytes out = prefix(png, 33);
  out = concat(out, chunk);
  return concat(out, Bytes(png.begin() + 33, png.end()));
}

// Offset of the FF of the first JPEG segment `marker` before the image data, or 0.
size_t jpeg_find(const Bytes& jpeg, unsigned marker) {
  for (size_t pos = 2; pos + 4 <= jpeg.size() && jpeg[pos] == 0xFF;) {
    if (jpeg[pos + 1] == marker) return pos;
    if (jpeg[pos + 1] == 0xDA) break;
    pos += 2 + ((jpeg[pos + 2] << 8) | jpeg[pos + 3]);
  }
  return 0;
}

Bytes jpeg_segment(unsigned marker, const Bytes& body) {
  Writer w;
  w.u8(0xFF);
  w.u8(marker);
  w.u16(body.size() + 2);
  w.raw(body);
  return w.b;
}

Bytes jpeg_insert_after_soi(const Bytes& jpeg, const Bytes& segment) {
  return concat(concat(prefix(jpeg, 2), segment), Bytes(jpeg.begin() + 2, jpeg.end()));
}

// A TIFF structure: header, then the first directory with `entries` (tag,
// type, count, value or offset, sorted by tag), then `data` (at tiff_data_at).
struct Entry {
  uint16_t tag, type;
  uint64_t count, value;
};
Bytes make_tiff(bool little, bool big, const std::vector<Entry>& entries, const Bytes& data = {}) {
  Writer w{little, {}};
  w.raw(little ? "II" : "MM");
  if (big) {
    w.u16(43);
    w.u16(8);
    w.u16(0);
    w.u64(16);
    w.u64(entries.size());
  } else {
    w.u16(42);
    w.u32(8);
    w.u16(entries.size());
  }
  for (const Entry& e : entries) {
    w.u16(e.tag);
    w.u16(e.type);
    if (big) {
      w.u64(e.count);
    } else {
      w.u32(e.count);
    }
    // Inline values sit left-justified in the value field.
    const int field = big ? 8 : 4;
    const int size = e.type == 3 ? 2 : e.type == 16 ? 8 : e.type == 1 || e.type == 2 ? 1 : 4;
    if (e.count * size <= static_cast<uint64_t>(field) && size < field) {
      w.put(e.value, size);
      w.put(0, field - size);
    } else {
      w.put(e.value, field);
    }
  }
  if (big) {
    w.u64(0);
  } else {
    w.u32(0);
  }
  w.raw(data);
  return w.b;
}

// Where make_tiff puts `data`.
uint64_t tiff_data_at(bool big, size_t entries) {
  return big ? 16 + 8 + 20 * entries + 8 : 8 + 2 + 12 * entries + 4;
}

// An uncompressed 8-bit gray TIFF of `gray` with an Orientation tag.
Bytes gray_tiff(bool little, bool big, const cv::Mat& gray, int orientation) {
  const uint64_t n = static_cast<uint64_t>(gray.total());
  const uint32_t kShort = 3, kLong = 4;
  const std::vector<Entry> entries = {
      {256, kShort, 1, static_cast<uint64_t>(gray.cols)},
      {257, kShort, 1, static_cast<uint64_t>(gray.rows)},
      {258, kShort, 1, 8},
      {259, kShort, 1, 1},  // no compression
      {262, kShort, 1, 1},  // BlackIsZero
      {273, kLong, 1, tiff_data_at(big, 10)},
      {274, kShort, 1, static_cast<uint64_t>(orientation)},
      {277, kShort, 1, 1},
      {278, kShort, 1, static_cast<uint64_t>(gray.rows)},
      {279, kLong, 1, n},
  };
  return make_tiff(little, big, entries, Bytes(gray.data, gray.data + n));
}

// An EXIF block (TIFF structure) whose first directory holds a Make string
// stored at an offset and then the Orientation tag.
Bytes exif_block(bool little, uint64_t orientation, uint16_t type = 3) {
  const std::vector<Entry> entries = {{0x010F, 2, 6, tiff_data_at(false, 2)},
                                      {0x0112, type, 1, orientation}};
  return make_tiff(little, false, entries, lit("Canon\0"));
}

Bytes exif_app1(const Bytes& tiff) {
  return jpeg_segment(0xE1, concat(lit("Exif\0\0"), tiff));
}

// --- Probing -------------------------------------------------------------------

ImageProbe probe(const Bytes& bytes) {
  return probe_image(bytes, "test.img");
}

// The reason probe_image refuses `bytes` with, or "" if it accepts them. Any
// exception other than ImageError escapes and fails the test.
std::string refusal(const Bytes& bytes) {
  try {
    probe_image(bytes, "bad.img");
  } catch (const ImageError& e) {
    EXPECT_EQ(e.path(), "bad.img");
    EXPECT_FALSE(e.reason().empty());
    return e.reason();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Checks the probe of `bytes` and that OpenCV decodes them (IMREAD_UNCHANGED)
// to the same size, with `decoded_channels` channels (-1: the probed count).
void expect_probe(const std::string& what, const Bytes& bytes, ImageFormat format, int width,
                  int height, int channels, int depth, bool transparency = false,
                  int decoded_channels = -1) {
  SCOPED_TRACE(what);
  const ImageProbe p = probe(bytes);
  EXPECT_EQ(format_name(p.format), std::string(format_name(format)));
  EXPECT_EQ(p.width, width);
  EXPECT_EQ(p.height, height);
  EXPECT_EQ(p.channels, channels);
  EXPECT_EQ(p.bit_depth, depth);
  EXPECT_EQ(p.transparency, transparency);
  EXPECT_EQ(p.exif_orientation, 1);
  const cv::Mat decoded = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(decoded.empty());
  EXPECT_EQ(decoded.cols, width);
  EXPECT_EQ(decoded.rows, height);
  EXPECT_EQ(decoded.channels(), decoded_channels < 0 ? channels : decoded_channels);
}

void expect_truncated(const std::string& what, const Bytes& bytes) {
  SCOPED_TRACE(what + ", " + std::to_string(bytes.size()) + " bytes");
  EXPECT_TRUE(contains(refusal(bytes), "truncated")) << refusal(bytes);
}

void expect_refused(const std::string& what, const Bytes& bytes, const std::string& part) {
  SCOPED_TRACE(what);
  const std::string reason = refusal(bytes);
  EXPECT_TRUE(contains(reason, part)) << "reason: '" << reason << "', expected '" << part << "'";
}

bool identical(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

// The EXIF meaning of each orientation, pixel by pixel: where the displayed
// pixel (r, c) comes from in the stored image of H rows and W columns.
cv::Mat reference_orientation(const cv::Mat& s, int orientation) {
  const int h = s.rows, w = s.cols;
  const bool swap = orientation >= 5;
  cv::Mat d(swap ? w : h, swap ? h : w, s.type());
  for (int r = 0; r < d.rows; ++r) {
    for (int c = 0; c < d.cols; ++c) {
      const std::pair<int, int> from[9] = {
          {},     {r, c},         {r, w - 1 - c},         {h - 1 - r, w - 1 - c}, {h - 1 - r, c},
          {c, r}, {h - 1 - c, r}, {h - 1 - c, w - 1 - r}, {c, w - 1 - r}};
      const auto [sr, sc] = from[orientation];
      std::memcpy(d.ptr(r, c), s.ptr(sr, sc), s.elemSize());
    }
  }
  return d;
}

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
  EXPECT_TRUE(probe(png_insert_after_ihdr(png(CV_8UC3), actl)).animated);
  EXPECT_FALSE(probe(png(CV_8UC3)).animated);
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
