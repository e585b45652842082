// The formats OpenCV reads that are only sized here (JPEG 2000, Sun raster),
// those refused from their signature, and the message for an unknown one.
#include "formats/probe/probers.hpp"

#include <string>

namespace fdiwn::probe {

namespace {

// Whether the start of the input reads as text: no control characters other
// than white space (bytes >= 0x80 are allowed for UTF-8).
bool looks_like_text(const ByteView& in) {
  const size_t n = in.size() < 512 ? in.size() : 512;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t c = in.u8(i);
    if ((c < 0x20 && !is_space(c)) || c == 0x7F) return false;
  }
  return true;
}

}  // namespace

// Formats OpenCV 4.6 (as Debian builds it) reads that are not parsed in full
// here: only their size is, so that --max-pixels holds for them too.

// JPEG 2000: the JP2 file's image header box (ihdr: height, width) or the raw
// codestream's SIZ marker (Xsiz - XOsiz, Ysiz - YOsiz).
ImageProbe probe_jpeg2000(const ByteView& in, const std::string& path) {
  ImageProbe p;
  p.format = ImageFormat::Other;
  if (matches(in, 0, "\xFF\x4F\xFF\x51")) {
    const uint64_t w = in.be32(8), h = in.be32(12), x0 = in.be32(16), y0 = in.be32(20);
    if (!in.has(0, 24)) fail(path, "truncated JPEG 2000 codestream (no complete SIZ marker)");
    if (x0 >= w || y0 >= h) fail(path, "broken JPEG 2000 codestream: image offset beyond its size");
    set_size(p, w - x0, h - y0, path);
    return p;
  }
  // The boxes: length (4, big-endian), type (4); length 1: a 64-bit length follows.
  for (size_t pos = 0; in.has(pos, 8);) {
    uint64_t length = in.be32(pos);
    const bool header = matches(in, pos + 4, "jp2h");
    if (matches(in, pos + 4, "ihdr")) {
      if (!in.has(pos + 8, 8)) break;
      set_size(p, in.be32(pos + 12), in.be32(pos + 8), path);
      return p;
    }
    if (length == 1) length = in.be64(pos + 8);
    if (header) {
      pos += 8;  // into the header super-box, whose first box is ihdr
    } else if (length == 0 || length < 8 || length > in.size() - pos) {
      break;
    } else {
      pos += static_cast<size_t>(length);
    }
  }
  fail(path, "broken or truncated JPEG 2000 file: no image header (ihdr) box");
}

// Sun raster: magic, width, height, depth (32-bit big-endian words).
ImageProbe probe_sun_raster(const ByteView& in, const std::string& path) {
  if (!in.has(0, 32)) fail(path, "truncated Sun raster header");
  ImageProbe p;
  p.format = ImageFormat::Other;
  set_size(p, in.be32(4), in.be32(8), path);
  return p;
}

// Formats OpenCV can decode that the tool refuses from their signature.
void refuse_unwanted_formats(const ByteView& in, const std::string& path) {
  if (matches(in, 0, "\x76\x2F\x31\x01") || matches(in, 0, "#?RADIANCE") ||
      matches(in, 0, "#?RGBE")) {
    fail(path,
         "not a supported image: OpenEXR and Radiance HDR hold floating-point "
         "(high dynamic range) pixels; the network takes 8- and 16-bit images");
  }
  // OpenCV's DICOM reader (GDCM) aborts the whole process on some damaged
  // files (found by fuzzing), which no error handling can catch.
  if (matches(in, 128, "DICM")) {
    fail(path, "not a supported image: DICOM (convert it to PNG or TIFF first)");
  }
}

[[noreturn]] void fail_unknown(const ByteView& in, const std::string& path) {
  std::string reason = "not a supported image: unknown format";
  if (matches(in, 0, "GIF87a") || matches(in, 0, "GIF89a")) {
    reason += " (a GIF, which OpenCV 4.6 cannot read)";
  } else if (matches(in, 4, "ftyp")) {
    reason +=
        " (an ISO media file of brand '" + printable(in, 8, 4) + "', not a HEIF or AVIF image)";
  } else if (looks_like_text(in)) {
    reason += " (the file looks like text)";
  }
  fail(path, reason);
}

}  // namespace fdiwn::probe
