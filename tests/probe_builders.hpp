// What the image-probe tests share: real encodes and hand-made files (PNG
// chunks, JPEG segments, TIFF directories, EXIF blocks), and the checks of
// a probe against OpenCV's own decoding.
#pragma once

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

using Bytes = std::vector<unsigned char>;

// --- Building test images ----------------------------------------------------

// Random pixels, the same on every run, so that any flip or transpose shows.
inline cv::Mat pattern(int rows, int cols, int type) {
  cv::Mat m(rows, cols, type);
  cv::RNG rng(static_cast<uint64_t>(rows * 1000 + cols + type));
  const double high = CV_MAT_DEPTH(type) == CV_16U ? 65536 : CV_MAT_DEPTH(type) == CV_32F ? 1 : 256;
  rng.fill(m, cv::RNG::UNIFORM, 0, high);
  return m;
}

inline Bytes encode(const std::string& ext, const cv::Mat& image,
                    const std::vector<int>& params = {}) {
  Bytes out;
  EXPECT_TRUE(cv::imencode(ext, image, out, params)) << ext;
  return out;
}

inline Bytes bytes_of(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

// The bytes of a string literal, embedded NULs included, without the final NUL.
template <size_t N>
inline Bytes lit(const char (&s)[N]) {
  return Bytes(s, s + N - 1);
}

inline Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline Bytes prefix(const Bytes& b, size_t n) {
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
inline uint32_t crc32(const unsigned char* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return ~c;
}

inline uint32_t adler32(const Bytes& d) {
  uint32_t a = 1, b = 0;
  for (unsigned char c : d) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

inline Bytes png_chunk(const std::string& type, const Bytes& data) {
  Writer w;
  w.u32(data.size());
  w.raw(type);
  w.raw(data);
  w.u32(crc32(w.b.data() + 4, w.b.size() - 4));
  return w.b;
}

// A zlib stream holding `raw` in one stored (uncompressed) deflate block.
inline Bytes zlib_stored(const Bytes& raw) {
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
inline Bytes make_png(uint32_t width, uint32_t height, int depth, int colour_type,
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
inline size_t png_find(const Bytes& png, const std::string& type) {
  for (size_t pos = 8; pos + 8 <= png.size();) {
    const uint32_t len =
        (uint32_t{png[pos]} << 24) | (png[pos + 1] << 16) | (png[pos + 2] << 8) | png[pos + 3];
    if (std::string(png.begin() + pos + 4, png.begin() + pos + 8) == type) return pos;
    pos += 12 + len;
  }
  return 0;
}

// Rewrites the IHDR size of a PNG and fixes its CRC.
inline Bytes png_with_size(Bytes png, uint32_t width, uint32_t height) {
  Writer w;
  w.u32(width);
  w.u32(height);
  std::copy(w.b.begin(), w.b.end(), png.begin() + 16);
  Writer crc;
  crc.u32(crc32(png.data() + 12, 17));
  std::copy(crc.b.begin(), crc.b.end(), png.begin() + 29);
  return png;
}

inline Bytes png_insert_after_ihdr(const Bytes& png, const Bytes& chunk) {
  Bytes out = prefix(png, 33);
  out = concat(out, chunk);
  return concat(out, Bytes(png.begin() + 33, png.end()));
}

// Offset of the FF of the first JPEG segment `marker` before the image data, or 0.
inline size_t jpeg_find(const Bytes& jpeg, unsigned marker) {
  for (size_t pos = 2; pos + 4 <= jpeg.size() && jpeg[pos] == 0xFF;) {
    if (jpeg[pos + 1] == marker) return pos;
    if (jpeg[pos + 1] == 0xDA) break;
    pos += 2 + ((jpeg[pos + 2] << 8) | jpeg[pos + 3]);
  }
  return 0;
}

inline Bytes jpeg_segment(unsigned marker, const Bytes& body) {
  Writer w;
  w.u8(0xFF);
  w.u8(marker);
  w.u16(body.size() + 2);
  w.raw(body);
  return w.b;
}

inline Bytes jpeg_insert_after_soi(const Bytes& jpeg, const Bytes& segment) {
  return concat(concat(prefix(jpeg, 2), segment), Bytes(jpeg.begin() + 2, jpeg.end()));
}

// A TIFF structure: header, then the first directory with `entries` (tag,
// type, count, value or offset, sorted by tag), then `data` (at tiff_data_at).
struct Entry {
  uint16_t tag, type;
  uint64_t count, value;
};
inline Bytes make_tiff(bool little, bool big, const std::vector<Entry>& entries,
                       const Bytes& data = {}) {
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
inline uint64_t tiff_data_at(bool big, size_t entries) {
  return big ? 16 + 8 + 20 * entries + 8 : 8 + 2 + 12 * entries + 4;
}

// An uncompressed 8-bit gray TIFF of `gray` with an Orientation tag.
inline Bytes gray_tiff(bool little, bool big, const cv::Mat& gray, int orientation) {
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
inline Bytes exif_block(bool little, uint64_t orientation, uint16_t type = 3) {
  const std::vector<Entry> entries = {{0x010F, 2, 6, tiff_data_at(false, 2)},
                                      {0x0112, type, 1, orientation}};
  return make_tiff(little, false, entries, lit("Canon\0"));
}

inline Bytes exif_app1(const Bytes& tiff) {
  return jpeg_segment(0xE1, concat(lit("Exif\0\0"), tiff));
}

// --- Probing -------------------------------------------------------------------

inline ImageProbe probe(const Bytes& bytes) {
  return probe_image(bytes, "test.img");
}

// The reason probe_image refuses `bytes` with, or "" if it accepts them. Any
// exception other than ImageError escapes and fails the test.
inline std::string refusal(const Bytes& bytes) {
  try {
    probe_image(bytes, "bad.img");
  } catch (const ImageError& e) {
    EXPECT_EQ(e.path(), "bad.img");
    EXPECT_FALSE(e.reason().empty());
    return e.reason();
  }
  return "";
}

inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Checks the probe of `bytes` and that OpenCV decodes them (IMREAD_UNCHANGED)
// to the same size, with `decoded_channels` channels (-1: the probed count).
inline void expect_probe(const std::string& what, const Bytes& bytes, ImageFormat format, int width,
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

inline void expect_truncated(const std::string& what, const Bytes& bytes) {
  SCOPED_TRACE(what + ", " + std::to_string(bytes.size()) + " bytes");
  EXPECT_TRUE(contains(refusal(bytes), "truncated")) << refusal(bytes);
}

inline void expect_refused(const std::string& what, const Bytes& bytes, const std::string& part) {
  SCOPED_TRACE(what);
  const std::string reason = refusal(bytes);
  EXPECT_TRUE(contains(reason, part)) << "reason: '" << reason << "', expected '" << part << "'";
}

inline bool identical(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

// The EXIF meaning of each orientation, pixel by pixel: where the displayed
// pixel (r, c) comes from in the stored image of H rows and W columns.
inline cv::Mat reference_orientation(const cv::Mat& s, int orientation) {
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

}  // namespace fdiwn::test
