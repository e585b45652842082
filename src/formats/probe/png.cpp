// PNG: the signature, IHDR, and every chunk's length and CRC (the size
// OpenCV would allocate is known from IHDR alone).
#include "formats/probe/probers.hpp"

#include <set>
#include <string>

#include "formats/crc32.hpp"

namespace fdiwn::probe {

namespace {

constexpr unsigned char kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

using detail::crc32;

bool is_letter(uint32_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool valid_png_depth(uint32_t colour_type, uint32_t depth) {
  switch (colour_type) {
    case 0:
      return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3:
      return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2:
    case 4:
    case 6:
      return depth == 8 || depth == 16;
    default:
      return false;
  }
}

}  // namespace

ImageProbe probe_png(const ByteView& in, const std::string& path, Depth how) {
  if (in.size() < sizeof kPngSignature) fail(path, "truncated PNG: the file ends in the signature");
  if (std::memcmp(in.data(), kPngSignature, sizeof kPngSignature) != 0) {
    // The signature's CR LF / LF bytes exist to catch text-mode transfers.
    fail(path, "broken PNG signature (was the file transferred in text mode?)");
  }
  ImageProbe p;
  p.format = ImageFormat::Png;
  bool seen_ihdr = false, seen_plte = false, seen_idat = false, seen_exif = false;
  uint32_t colour_type = 0;
  size_t pos = sizeof kPngSignature;
  // Each turn consumes at least the 12 bytes of a chunk's frame.
  for (;;) {
    if (pos == in.size()) {
      fail(path, seen_idat ? "truncated PNG: the file ends before the IEND chunk"
                           : "truncated PNG: the file ends before the image data");
    }
    if (!in.has(pos, 8)) fail(path, "truncated PNG: the file ends in a chunk header");
    const uint32_t length = in.be32(pos);
    const std::string name = printable(in, pos + 4, 4);
    if (!is_letter(in.u8(pos + 4)) || !is_letter(in.u8(pos + 5)) || !is_letter(in.u8(pos + 6)) ||
        !is_letter(in.u8(pos + 7))) {
      fail(path,
           "broken PNG: invalid chunk type '" + name + "' at byte " + std::to_string(pos + 4));
    }
    if (length > 0x7FFFFFFFu)
      fail(path, "broken PNG: the " + name + " chunk has an invalid length");
    const size_t body_at = pos + 8;
    if (!in.has(body_at, length) || !in.has(body_at + length, 4)) {
      fail(path, "truncated PNG: the file ends in the " + name + " chunk");
    }
    const ByteView body = in.sub(body_at, length);
    // A chunk's CRC covers its type and data. libpng refuses a critical chunk
    // (upper-case first letter) with a bad CRC and drops an ancillary one.
    const bool crc_ok = crc32(in.data() + pos + 4, size_t{4} + length) == in.be32(body_at + length);
    const bool critical = (in.u8(pos + 4) & 0x20) == 0;
    if (critical && !crc_ok) fail(path, "corrupt PNG: CRC error in the " + name + " chunk");
    pos = body_at + length + 4;

    if (!seen_ihdr) {
      if (name != "IHDR") fail(path, "broken PNG: the first chunk is " + name + ", not IHDR");
      if (length != 13) fail(path, "broken PNG: the IHDR chunk has a wrong length");
      seen_ihdr = true;
      const uint32_t depth = body.u8(8);
      colour_type = body.u8(9);
      if (!valid_png_depth(colour_type, depth)) {
        fail(path, "broken PNG: invalid colour type " + std::to_string(colour_type) +
                       " with bit depth " + std::to_string(depth));
      }
      if (body.u8(10) != 0 || body.u8(11) != 0 || body.u8(12) > 1) {
        fail(path, "broken PNG: unknown compression, filter or interlace method");
      }
      set_size(p, body.be32(0), body.be32(4), path);
      p.bit_depth = static_cast<int>(depth);
      static constexpr int kChannels[7] = {1, 0, 3, 3, 2, 0, 4};
      p.channels = kChannels[colour_type];
      p.palette = colour_type == 3;
      p.transparency = colour_type == 4 || colour_type == 6;
      if (how == Depth::Header) return p;
      continue;
    }
    if (name == "IEND") break;
    if (name == "IHDR") fail(path, "broken PNG: a second IHDR chunk");
    if (name == "IDAT") {
      if (colour_type == 3 && !seen_plte) fail(path, "broken PNG: a palette image without PLTE");
      seen_idat = true;
    } else if (name == "PLTE") {
      if (length == 0 || length % 3 != 0 || length > 768) {
        if (colour_type == 3) fail(path, "broken PNG: invalid PLTE chunk");
      } else {
        seen_plte = true;
      }
    } else if (name == "tRNS") {
      if (crc_ok) p.transparency = true;
    } else if (name == "eXIf") {
      if (crc_ok && !seen_exif) p.exif_orientation = exif_orientation(body);
      seen_exif = true;
    } else if (name == "acTL") {
      if (crc_ok) p.more_images = true;
    } else if (critical) {
      fail(path, "broken PNG: unknown critical chunk " + name);
    }
  }
  // ByteView after IEND are ignored, as libpng does.
  if (!seen_idat) fail(path, "broken PNG: no image data (IDAT chunk)");
  return p;
}

}  // namespace fdiwn::probe
