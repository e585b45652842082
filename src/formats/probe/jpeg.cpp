// JPEG: the markers up to the frame header (SOFn), and the EXIF orientation.
#include "formats/probe/probers.hpp"

#include <string>

namespace fdiwn::probe {

namespace {

bool is_sof(uint32_t marker) {
  // SOF0..SOF15 are C0..CF except C4 (DHT), C8 (JPG, reserved) and CC (DAC).
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

std::string marker_name(uint32_t marker) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string s = "FF";
  s += kHex[(marker >> 4) & 0xF];
  s += kHex[marker & 0xF];
  return s;
}

// Position of the first `byte` at or after `from`, or the input size.
size_t find_byte(const ByteView& in, size_t from, unsigned char byte) {
  if (from >= in.size()) return in.size();
  const void* hit = std::memchr(in.data() + from, byte, in.size() - from);
  return hit ? static_cast<size_t>(static_cast<const unsigned char*>(hit) - in.data()) : in.size();
}

}  // namespace

ImageProbe probe_jpeg(const ByteView& in, const std::string& path, Depth how) {
  // The caller has seen the SOI marker FFD8.
  ImageProbe p;
  p.format = ImageFormat::Jpeg;
  bool seen_sof = false, seen_sos = false, seen_exif = false;
  size_t pos = 2;
  for (;;) {
    // libjpeg skips (with a warning) bytes that are not a marker between
    // segments, and any number of FF fill bytes before one: so do we.
    pos = find_byte(in, pos, 0xFF);
    while (pos < in.size() && in.u8(pos) == 0xFF) ++pos;
    if (pos >= in.size()) {
      fail(path, seen_sos ? "truncated JPEG: no end-of-image marker after the image data"
                          : "truncated JPEG: the file ends before the image data");
    }
    const uint32_t marker = in.u8(pos++);
    if (marker == 0x00) continue;  // FF00 outside a scan: garbage, skipped like libjpeg
    if (marker == 0xD9) {          // EOI; anything after it is ignored
      if (!seen_sos) fail(path, "broken JPEG: end-of-image marker before any image data");
      break;
    }
    if (marker == 0xD8) fail(path, "broken JPEG: a second start-of-image marker");
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) continue;  // RSTn, TEM: no length

    if (!in.has(pos, 2)) fail(path, "truncated JPEG: the file ends in a segment header");
    const uint32_t length = in.be16(pos);
    if (length < 2) {
      fail(path, "broken JPEG: invalid length of segment " + marker_name(marker) + " at byte " +
                     std::to_string(pos - 2));
    }
    if (!in.has(pos, length)) {
      fail(path, "truncated JPEG: the file ends in segment " + marker_name(marker));
    }
    const ByteView body = in.sub(pos + 2, length - 2);
    pos += length;

    if (is_sof(marker)) {
      if (seen_sof) fail(path, "broken JPEG: more than one frame header (SOF)");
      seen_sof = true;
      const uint32_t components = body.u8(5);
      if (body.size() < 6 || components == 0 || body.size() < 6 + 3 * size_t{components}) {
        fail(path, "broken JPEG: invalid frame header (SOF)");
      }
      p.bit_depth = static_cast<int>(body.u8(0));
      p.channels = static_cast<int>(components);
      p.cmyk = components == 4;
      // A height of 0 means "defined later by a DNL marker", which libjpeg
      // does not support; set_size refuses it.
      set_size(p, body.be16(3), body.be16(1), path);
      if (how == Depth::Header) return p;
    } else if (marker == 0xDA) {  // SOS: a scan header, then entropy-coded data
      if (!seen_sof) fail(path, "broken JPEG: image data (SOS) before the frame header (SOF)");
      seen_sos = true;
      // Skip the entropy-coded data: FF00 is a stuffed FF, FFD0..FFD7 are
      // restart markers and FFFF is fill; any other FF xx ends the scan.
      for (;;) {
        pos = find_byte(in, pos, 0xFF);
        if (!in.has(pos, 2)) {
          fail(path, "truncated JPEG: no end-of-image marker after the image data");
        }
        const uint32_t next = in.u8(pos + 1);
        if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
          pos += 2;
        } else if (next == 0xFF) {
          pos += 1;
        } else {
          break;  // a marker: the outer loop reads it
        }
      }
    } else if (marker == 0xE1 && !seen_exif && matches(body, 0, "Exif\0\0")) {
      // The first APP1 segment with an EXIF header; XMP also lives in APP1.
      seen_exif = true;
      p.exif_orientation = exif_orientation(body.from(6));
    }
  }
  return p;
}

}  // namespace fdiwn::probe
