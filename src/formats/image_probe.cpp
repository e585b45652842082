// Image header probing (see image_probe.hpp for why it runs before OpenCV):
// which format a file is, from its first bytes, and the prober for it
// (probe/: one file per format family, probe/probers.hpp for the rules that
// keep them safe on hostile input). Standard library only.
#include "fdiwn/image_probe.hpp"

#include <cstdint>
#include <optional>
#include <string>

#include "formats/probe/probers.hpp"

namespace fdiwn {

const char* format_name(ImageFormat f) {
  // In the order of the enum.
  static const char* const kNames[] = {"unknown", "PNG", "JPEG", "WebP", "BMP",
                                       "TIFF",    "PNM", "HEIF", "AVIF", "other"};
  const auto i = static_cast<size_t>(f);
  return i < sizeof kNames / sizeof kNames[0] ? kNames[i] : "unknown";
}

namespace {

using namespace probe;

bool is_tiff(const ByteView& in) {
  return matches(in, 0, "II*\0") || matches(in, 0, "MM\0*") || matches(in, 0, "II+\0") ||
         matches(in, 0, "MM\0+");
}

ImageProbe probe_bytes(const ByteView& in, const std::string& path, Depth how) {
  if (in.size() == 0) fail(path, "the file is empty");
  // The PNG test is on the first 4 bytes so that a damaged or cut signature
  // is reported as such rather than as an unknown format.
  if (matches(in, 0, "\x89PNG") || (in.size() < 4 && in.matches(0, "\x89PNG", in.size()))) {
    return probe_png(in, path, how);
  }
  if (matches(in, 0, "\xFF\xD8")) return probe_jpeg(in, path, how);
  // A JPEG segment (APPn, DQT, DHT) right at the start: the SOI was lost.
  const uint32_t second = in.u8(1);
  if (in.u8(0) == 0xFF &&
      ((second >= 0xE0 && second <= 0xEF) || second == 0xDB || second == 0xC4)) {
    fail(path, "broken JPEG: no start-of-image (SOI) marker");
  }
  if (matches(in, 0, "RIFF") && matches(in, 8, "WEBP")) return probe_webp(in, path);
  if (is_tiff(in)) return probe_tiff(in, path);
  if (is_bmp(in)) return probe_bmp(in, path);
  if (is_pnm(in)) return probe_pnm(in, path);
  if (matches(in, 0, "\x00\x00\x00\x0CjP  \r\n\x87\n") || matches(in, 0, "\xFF\x4F\xFF\x51")) {
    return probe_jpeg2000(in, path);
  }
  if (is_heif(in)) return probe_heif(in, path);
  if (matches(in, 0, "\x59\xA6\x6A\x95")) return probe_sun_raster(in, path);
  refuse_unwanted_formats(in, path);
  fail_unknown(in, path);
}

}  // namespace

ImageProbe probe_image(const unsigned char* data, size_t size, const std::string& path) {
  return probe_bytes(ByteView(data, size), path, Depth::Full);
}

std::optional<ImageProbe> probe_header(const unsigned char* head, size_t head_size,
                                       uint64_t file_size, const ReadAt& read_at,
                                       const std::string& path) {
  const ByteView in(head, head_size);
  const bool whole_file = head_size >= file_size;
  // A TIFF's first directory may lie anywhere (libtiff writes it after the
  // pixels): read it where it is.
  if (is_tiff(in) && !whole_file) return probe_tiff(FileBytes(file_size, read_at), path);
  try {
    return probe_bytes(in, path, Depth::Header);
  } catch (const ImageError&) {
    // What looks broken in the first bytes may only be cut short by them;
    // the full probe of the whole file decides.
    if (!whole_file) return std::nullopt;
    throw;
  }
}

}  // namespace fdiwn
