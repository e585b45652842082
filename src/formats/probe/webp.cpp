// WebP: the RIFF container, VP8/VP8L/VP8X headers and the EXIF chunk.
#include "formats/probe/probers.hpp"

#include <string>

namespace fdiwn::probe {

ImageProbe probe_webp(const ByteView& in, const std::string& path) {
  // The caller has seen "RIFF" size "WEBP". The first chunk tells the kind.
  ImageProbe p;
  p.format = ImageFormat::WebP;
  p.bit_depth = 8;
  p.channels = 3;
  if (!in.has(12, 8)) fail(path, "truncated WebP: the file ends before the first chunk");
  const std::string kind = printable(in, 12, 4);
  const size_t body = 20;
  if (kind == "VP8 ") {
    // Lossy: a 3-byte frame tag (bit 0 clear for a key frame), the start code
    // 9D 01 2A, then 14-bit width and height (the top 2 bits are scaling).
    if (!in.has(body, 10)) fail(path, "truncated WebP: the file ends in the VP8 header");
    if ((in.u8(body) & 1) != 0 || !matches(in, body + 3, "\x9D\x01\x2A")) {
      fail(path, "broken WebP: invalid VP8 header");
    }
    set_size(p, in.le16(body + 6) & 0x3FFF, in.le16(body + 8) & 0x3FFF, path);
  } else if (kind == "VP8L") {
    // Lossless: signature 2F, then width-1 and height-1 in 14 bits each, the
    // alpha hint bit and a 3-bit version that must be 0.
    if (!in.has(body, 5)) fail(path, "truncated WebP: the file ends in the VP8L header");
    const uint32_t bits = in.le32(body + 1);
    if (in.u8(body) != 0x2F || (bits >> 29) != 0) fail(path, "broken WebP: invalid VP8L header");
    set_size(p, (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, path);
    if (bits & (1u << 28)) {
      p.channels = 4;
      p.transparency = true;
    }
  } else if (kind == "VP8X") {
    // Extended: flags, 3 reserved bytes, canvas width-1 and height-1 in 24
    // bits each; the image and metadata follow in further chunks.
    if (!in.has(body, 10)) fail(path, "truncated WebP: the file ends in the VP8X header");
    const uint32_t flags = in.u8(body);
    set_size(p, uint64_t{in.le24(body + 4)} + 1, uint64_t{in.le24(body + 7)} + 1, path);
    if (flags & 0x10) {
      p.channels = 4;
      p.transparency = true;
    }
    p.more_images = (flags & 0x02) != 0;
    // Look for the EXIF chunk. Chunks are padded to even sizes; a chunk that
    // runs past the end stops the search (libwebp reports truncation itself).
    size_t pos = 12;
    while (in.has(pos, 8)) {
      const uint32_t chunk_size = in.le32(pos + 4);
      if (!in.has(pos + 8, chunk_size)) break;
      if (matches(in, pos, "EXIF")) {
        p.exif_orientation = exif_orientation(in.sub(pos + 8, chunk_size));
        break;
      }
      pos += 8 + size_t{chunk_size};
      if (chunk_size & 1) ++pos;  // pos <= size + 1 here, so no overflow
    }
  } else {
    fail(path, "broken WebP: unknown first chunk '" + kind + "'");
  }
  return p;
}

}  // namespace fdiwn::probe
