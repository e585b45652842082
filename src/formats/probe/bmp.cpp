// BMP: the file header and the DIB header of any version.
#include "formats/probe/probers.hpp"

#include <string>

namespace fdiwn::probe {

bool is_bmp(const ByteView& in) {
  // "BM" alone is too weak (text can start with it): require a known
  // info-header size as well.
  if (!matches(in, 0, "BM") || !in.has(14, 4)) return false;
  switch (in.le32(14)) {
    case 12:   // BITMAPCOREHEADER
    case 16:   // OS/2 2.x, short form
    case 40:   // BITMAPINFOHEADER
    case 52:   // with RGB masks
    case 56:   // with RGBA masks
    case 64:   // OS/2 2.x
    case 108:  // BITMAPV4HEADER
    case 124:  // BITMAPV5HEADER
      return true;
    default:
      return false;
  }
}

ImageProbe probe_bmp(const ByteView& in, const std::string& path) {
  ImageProbe p;
  p.format = ImageFormat::Bmp;
  const uint32_t header_size = in.le32(14);
  const size_t info = 14;
  int64_t width = 0, height = 0;
  uint32_t bpp = 0, colours_used = 0;
  size_t palette_entry = 4;
  if (header_size == 12) {
    if (!in.has(info, 12)) fail(path, "truncated BMP: the file ends in the header");
    width = in.le16(info + 4);
    height = in.le16(info + 6);  // unsigned in this header
    bpp = in.le16(info + 10);
    palette_entry = 3;
  } else {
    if (!in.has(info, 16)) fail(path, "truncated BMP: the file ends in the header");
    width = static_cast<int32_t>(in.le32(info + 4));
    height = static_cast<int32_t>(in.le32(info + 8));
    bpp = in.le16(info + 14);
    if (header_size >= 36) colours_used = in.le32(info + 32);
  }
  // A negative height means rows stored top-down; int64 holds -INT32_MIN.
  if (width < 0) fail(path, "broken BMP: negative width");
  set_size(p, static_cast<uint64_t>(width), static_cast<uint64_t>(height < 0 ? -height : height),
           path);
  switch (bpp) {
    case 1:
    case 4:
    case 8: {
      // OpenCV decodes a palette of grays to one channel, any other to BGR.
      p.palette = true;
      p.bit_depth = static_cast<int>(bpp);
      const uint32_t max_colours = 1u << bpp;
      const uint32_t n =
          colours_used == 0 || colours_used > max_colours ? max_colours : colours_used;
      const size_t palette_at = info + header_size;
      bool gray = true;
      for (uint32_t i = 0; i < n && gray; ++i) {
        const size_t at = palette_at + i * palette_entry;
        if (!in.has(at, 3)) break;  // missing entries read as black, a gray
        gray = in.u8(at) == in.u8(at + 1) && in.u8(at) == in.u8(at + 2);
      }
      p.channels = gray ? 1 : 3;
      break;
    }
    case 16:
    case 24:
      p.channels = 3;
      p.bit_depth = 8;
      break;
    case 32:
      // The fourth byte is padding unless the header has an alpha mask (V3
      // and later headers). OpenCV 4.6 drops it either way (decodes to BGR).
      p.bit_depth = 8;
      p.transparency = header_size >= 56 && in.le32(info + 52) != 0;
      p.channels = p.transparency ? 4 : 3;
      break;
    default:
      fail(path, "broken BMP: unsupported " + std::to_string(bpp) + " bits per pixel");
  }
  return p;
}

}  // namespace fdiwn::probe
