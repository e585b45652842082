// The image probers, one file per format family (png.cpp, jpeg.cpp, ...),
// and what they share. Internal to the formats layer; image_probe.cpp
// dispatches.
//
// The rules that keep them safe on hostile input:
// - every read goes through ByteView or FileBytes (../bytes.hpp), whose
//   readers return 0 outside the input, so a forgotten check gives a wrong
//   value, never an out-of-bounds read;
// - every range check is `off <= size && len <= size - off`, which cannot
//   overflow (never `off + len <= size`);
// - every loop advances through the input by at least one byte per turn (or
//   is bounded by a 16-bit count that has been checked to fit), there is no
//   recursion and no allocation sized by a header field.
#pragma once

#include <cstdint>
#include <string>

#include "fdiwn/errors.hpp"
#include "fdiwn/image_probe.hpp"
#include "formats/bytes.hpp"
#include "formats/probe/file_bytes.hpp"

namespace fdiwn::probe {

// How far a prober goes: Header stops as soon as the size and sample type
// are known (the rest of the file may not have been read yet); Full checks
// the whole structure.
enum class Depth { Header, Full };

[[noreturn]] inline void fail(const std::string& path, const std::string& reason) {
  throw ImageError(path, reason);
}

/// Sets the size after the checks every format shares: OpenCV's Mat sizes
/// are int, and a zero side cannot be decoded (JPEG's DNL and TIFF's missing
/// tags end up here too).
void set_size(ImageProbe& p, uint64_t width, uint64_t height, const std::string& path);

/// A chunk or marker name for a message, with unprintable bytes as '?'.
std::string printable(const ByteView& in, size_t off, size_t n);

inline bool is_space(uint32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
inline bool is_digit(uint32_t c) {
  return c >= '0' && c <= '9';
}

/// The Orientation of an EXIF block (a TIFF structure, optionally behind
/// the "Exif\0\0" header some writers repeat); 1 for anything malformed.
int exif_orientation(ByteView exif);

ImageProbe probe_png(const ByteView& in, const std::string& path, Depth how);
ImageProbe probe_jpeg(const ByteView& in, const std::string& path, Depth how);
ImageProbe probe_webp(const ByteView& in, const std::string& path);
bool is_bmp(const ByteView& in);
ImageProbe probe_bmp(const ByteView& in, const std::string& path);
/// For ByteView and FileBytes.
template <class Source>
ImageProbe probe_tiff(const Source& in, const std::string& path);
bool is_pnm(const ByteView& in);
ImageProbe probe_pnm(const ByteView& in, const std::string& path);
bool is_heif(const ByteView& in);
/// HEIF (HEIC) and AVIF: ftyp, then the primary item's size from the meta box.
ImageProbe probe_heif(const ByteView& in, const std::string& path);
ImageProbe probe_jpeg2000(const ByteView& in, const std::string& path);
ImageProbe probe_sun_raster(const ByteView& in, const std::string& path);
/// Formats OpenCV can decode that the tool refuses from their signature.
void refuse_unwanted_formats(const ByteView& in, const std::string& path);
[[noreturn]] void fail_unknown(const ByteView& in, const std::string& path);

}  // namespace fdiwn::probe
