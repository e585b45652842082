// Image header probing (see image_probe.hpp for why it runs before OpenCV).
//
// Standard library only, so that it can be fuzzed on its own. The rules that
// keep it safe on hostile input:
// - every read goes through Bytes, whose readers return 0 outside the input,
//   so a forgotten check gives a wrong value, never an out-of-bounds read;
// - every range check is `off <= size && len <= size - off`, which cannot
//   overflow (never `off + len <= size`);
// - every loop advances through the input by at least one byte per turn (or
//   is bounded by a 16-bit count that has been checked to fit), there is no
//   recursion and no allocation sized by a header field.
#include "fdiwn/image_probe.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crc32.hpp"
#include "fdiwn/errors.hpp"

namespace fdiwn {

namespace {

// --- Bounds-checked byte access ---------------------------------------------

class Bytes {
 public:
  Bytes() = default;
  Bytes(const unsigned char* data, size_t size) : data_(data), size_(data ? size : 0) {}

  size_t size() const { return size_; }
  const unsigned char* data() const { return data_; }

  bool has(size_t off, size_t len) const { return off <= size_ && len <= size_ - off; }
  // The same for 64-bit offsets read from a file (BigTIFF, EXIF), which may
  // exceed size_t on 32-bit targets.
  bool has64(uint64_t off, uint64_t len) const {
    return off <= size_ && len <= static_cast<uint64_t>(size_) - off;
  }
  // [off, off + len) if it lies inside, else an empty view.
  Bytes sub(size_t off, size_t len) const {
    return has(off, len) ? Bytes(data_ + off, len) : Bytes();
  }
  Bytes from(size_t off) const { return off <= size_ ? Bytes(data_ + off, size_ - off) : Bytes(); }

  uint32_t u8(size_t off) const { return off < size_ ? data_[off] : 0; }
  uint32_t be16(size_t off) const { return has(off, 2) ? (u8(off) << 8) | u8(off + 1) : 0; }
  uint32_t le16(size_t off) const { return has(off, 2) ? u8(off) | (u8(off + 1) << 8) : 0; }
  uint32_t le24(size_t off) const { return has(off, 3) ? le16(off) | (u8(off + 2) << 16) : 0; }
  uint32_t be32(size_t off) const { return has(off, 4) ? (be16(off) << 16) | be16(off + 2) : 0; }
  uint32_t le32(size_t off) const { return has(off, 4) ? le16(off) | (le16(off + 2) << 16) : 0; }
  uint64_t be64(size_t off) const {
    return has(off, 8) ? (static_cast<uint64_t>(be32(off)) << 32) | be32(off + 4) : 0;
  }
  uint64_t le64(size_t off) const {
    return has(off, 8) ? le32(off) | (static_cast<uint64_t>(le32(off + 4)) << 32) : 0;
  }

  // Whether the input holds the n bytes of `s` at `off`.
  bool matches(size_t off, const char* s, size_t n) const {
    return has(off, n) && std::memcmp(data_ + off, s, n) == 0;
  }

 private:
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

// The same readers over a file that is not in memory: blocks are read on
// demand (and the last few kept), so that a TIFF directory at the end of a
// large file can be read without reading the file.
class FileBytes {
 public:
  FileBytes(uint64_t size, const ReadAt& read_at) : size_(size), read_at_(read_at) {}

  size_t size() const { return size_ > kMaxSize ? kMaxSize : static_cast<size_t>(size_); }
  bool has(size_t off, size_t len) const { return off <= size() && len <= size() - off; }
  bool has64(uint64_t off, uint64_t len) const {
    return off <= size() && len <= static_cast<uint64_t>(size()) - off;
  }
  uint32_t u8(size_t off) const {
    if (off >= size()) return 0;
    const uint64_t block = off / kBlock;
    auto it = cache_.find(block);
    if (it == cache_.end()) {
      if (cache_.size() >= kCachedBlocks) cache_.clear();
      it = cache_.emplace(block, read_at_(block * kBlock, kBlock)).first;
    }
    const size_t at = off % kBlock;
    return at < it->second.size() ? it->second[at] : 0;
  }
  uint32_t be16(size_t off) const { return has(off, 2) ? (u8(off) << 8) | u8(off + 1) : 0; }
  uint32_t le16(size_t off) const { return has(off, 2) ? u8(off) | (u8(off + 1) << 8) : 0; }
  uint32_t be32(size_t off) const { return has(off, 4) ? (be16(off) << 16) | be16(off + 2) : 0; }
  uint32_t le32(size_t off) const { return has(off, 4) ? le16(off) | (le16(off + 2) << 16) : 0; }
  uint64_t be64(size_t off) const {
    return has(off, 8) ? (static_cast<uint64_t>(be32(off)) << 32) | be32(off + 4) : 0;
  }
  uint64_t le64(size_t off) const {
    return has(off, 8) ? le32(off) | (static_cast<uint64_t>(le32(off + 4)) << 32) : 0;
  }
  bool matches(size_t off, const char* s, size_t n) const {
    if (!has(off, n)) return false;
    for (size_t i = 0; i < n; ++i) {
      if (u8(off + i) != static_cast<unsigned char>(s[i])) return false;
    }
    return true;
  }

 private:
  static constexpr size_t kBlock = 4096;
  static constexpr size_t kCachedBlocks = 64;
  static constexpr uint64_t kMaxSize = std::numeric_limits<size_t>::max();
  uint64_t size_;
  const ReadAt& read_at_;
  mutable std::map<uint64_t, std::vector<unsigned char>> cache_;
};

template <class Source, size_t N>
bool matches(const Source& in, size_t off, const char (&s)[N]) {
  return in.matches(off, s, N - 1);  // without the string literal's NUL
}

// A chunk or marker name for a message, with unprintable bytes as '?'.
std::string printable(const Bytes& in, size_t off, size_t n) {
  std::string s;
  for (size_t i = 0; i < n && in.has(off + i, 1); ++i) {
    const uint32_t c = in.u8(off + i);
    s += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
  }
  return s;
}

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
  throw ImageError(path, reason);
}

// Sets the size after the checks every format shares: OpenCV's Mat sizes are
// int, and a zero side cannot be decoded (JPEG's DNL and TIFF's missing tags
// end up here too).
void set_size(ImageProbe& p, uint64_t width, uint64_t height, const std::string& path) {
  if (width == 0 || height == 0) {
    fail(path, "invalid image size " + std::to_string(width) + "x" + std::to_string(height) +
                   " (zero width or height)");
  }
  const uint64_t max = static_cast<uint64_t>(std::numeric_limits<int>::max());
  if (width > max || height > max) {
    fail(path, "invalid image size " + std::to_string(width) + "x" + std::to_string(height) +
                   " (beyond 2^31 - 1)");
  }
  p.width = static_cast<int>(width);
  p.height = static_cast<int>(height);
}

// --- TIFF directories (TIFF files and EXIF blocks) --------------------------

// One entry of an image file directory: where its value field lies in the
// TIFF view, so values are read only when asked for.
struct IfdEntry {
  uint32_t tag = 0;
  uint32_t type = 0;
  uint64_t count = 0;
  size_t value_field = 0;
};

template <class Source>
class TiffReader {
 public:
  explicit TiffReader(const Source& tiff) : in_(tiff) {}

  // Reads the header; false if this is not a TIFF structure.
  bool open() {
    if (matches(in_, 0, "II")) {
      little_ = true;
    } else if (matches(in_, 0, "MM")) {
      little_ = false;
    } else {
      return false;
    }
    const uint32_t magic = u16(2);
    if (magic == 42) {
      big_ = false;
      ifd0_ = u32(4);
      return in_.has(0, 8);
    }
    if (magic == 43) {  // BigTIFF: offset size 8, then a 64-bit IFD offset
      big_ = true;
      ifd0_ = u64(8);
      return in_.has(0, 16) && u16(4) == 8 && u16(6) == 0;
    }
    return false;
  }

  // Calls f(entry) for each entry of the first directory. False if the
  // directory does not lie entirely inside the input. Only the first directory
  // is read, so offset cycles between directories cannot make this loop.
  template <typename F>
  bool for_each_ifd0_entry(F&& f) const {
    const uint64_t count_size = big_ ? 8 : 2;
    const uint64_t entry_size = big_ ? 20 : 12;
    if (ifd0_ < 8 || !in_.has64(ifd0_, count_size)) return false;
    const size_t start = static_cast<size_t>(ifd0_);
    const uint64_t count = big_ ? u64(start) : u16(start);
    const size_t first = start + static_cast<size_t>(count_size);
    // The count is bounded by what fits in the input, so the loop is too.
    if (count > (in_.size() - first) / entry_size) return false;
    for (uint64_t i = 0; i < count; ++i) {
      const size_t at = first + static_cast<size_t>(i * entry_size);
      IfdEntry e;
      e.tag = u16(at);
      e.type = u16(at + 2);
      e.count = big_ ? u64(at + 4) : u32(at + 4);
      e.value_field = at + (big_ ? 12 : 8);
      f(e);
    }
    return true;
  }

  // The index-th value of an integer entry (BYTE, SHORT, LONG, LONG8); false
  // for other types or when the value lies outside the input.
  bool value(const IfdEntry& e, uint64_t index, uint64_t* out) const {
    // BYTE, SHORT, LONG, LONG8 (BigTIFF).
    const uint64_t size = e.type == 1    ? 1
                          : e.type == 3  ? 2
                          : e.type == 4  ? 4
                          : e.type == 16 ? 8
                                         : 0;
    if (size == 0) return false;
    if (index >= e.count) return false;
    const uint64_t inline_capacity = big_ ? 8 : 4;
    // Values that fit sit in the value field itself; others at an offset.
    uint64_t base = e.value_field;
    if (e.count > inline_capacity / size) base = big_ ? u64(e.value_field) : u32(e.value_field);
    // index < count and count * size bytes must fit: check without overflow.
    if (!in_.has64(base, 0) || index > (in_.size() - base) / size) return false;
    const uint64_t at = base + index * size;
    if (!in_.has64(at, size)) return false;
    const size_t pos = static_cast<size_t>(at);
    *out = size == 1 ? in_.u8(pos) : size == 2 ? u16(pos) : size == 4 ? u32(pos) : u64(pos);
    return true;
  }

 private:
  uint32_t u16(size_t off) const { return little_ ? in_.le16(off) : in_.be16(off); }
  uint32_t u32(size_t off) const { return little_ ? in_.le32(off) : in_.be32(off); }
  uint64_t u64(size_t off) const { return little_ ? in_.le64(off) : in_.be64(off); }

  Source in_;
  bool little_ = true;
  bool big_ = false;
  uint64_t ifd0_ = 0;
};

constexpr uint32_t kTagOrientation = 0x0112;

// The Orientation of an EXIF block (a TIFF structure, optionally behind the
// "Exif\0\0" header some writers repeat). Anything malformed gives 1: a bad
// EXIF block must never stop an image from being read.
int exif_orientation(Bytes exif) {
  if (matches(exif, 0, "Exif\0\0")) exif = exif.from(6);
  TiffReader<Bytes> tiff(exif);
  if (!tiff.open()) return 1;
  int orientation = 1;
  bool seen = false;
  tiff.for_each_ifd0_entry([&](const IfdEntry& e) {
    if (e.tag != kTagOrientation || seen) return;
    seen = true;
    uint64_t v = 0;
    if (tiff.value(e, 0, &v) && v >= 1 && v <= 8) orientation = static_cast<int>(v);
  });
  return orientation;
}

// How far a prober goes: Header stops as soon as the size and sample type
// are known (the rest of the file may not have been read yet); Full checks
// the whole structure.
enum class Depth { Header, Full };

// --- PNG ---------------------------------------------------------------------

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

ImageProbe probe_png(const Bytes& in, const std::string& path, Depth how) {
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
    const Bytes body = in.sub(body_at, length);
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
      if (crc_ok) p.animated = true;
    } else if (critical) {
      fail(path, "broken PNG: unknown critical chunk " + name);
    }
  }
  // Bytes after IEND are ignored, as libpng does.
  if (!seen_idat) fail(path, "broken PNG: no image data (IDAT chunk)");
  return p;
}

// --- JPEG --------------------------------------------------------------------

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
size_t find_byte(const Bytes& in, size_t from, unsigned char byte) {
  if (from >= in.size()) return in.size();
  const void* hit = std::memchr(in.data() + from, byte, in.size() - from);
  return hit ? static_cast<size_t>(static_cast<const unsigned char*>(hit) - in.data()) : in.size();
}

ImageProbe probe_jpeg(const Bytes& in, const std::string& path, Depth how) {
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
    const Bytes body = in.sub(pos + 2, length - 2);
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

// --- WebP --------------------------------------------------------------------

ImageProbe probe_webp(const Bytes& in, const std::string& path) {
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
    p.animated = (flags & 0x02) != 0;
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

// --- BMP ---------------------------------------------------------------------

bool is_bmp(const Bytes& in) {
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

ImageProbe probe_bmp(const Bytes& in, const std::string& path) {
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

// --- TIFF --------------------------------------------------------------------

template <class Source>
ImageProbe probe_tiff(const Source& in, const std::string& path) {
  ImageProbe p;
  p.format = ImageFormat::Tiff;
  TiffReader<Source> tiff(in);
  if (!tiff.open()) fail(path, "broken TIFF: invalid header");
  uint64_t width = 0, height = 0, bits = 1, samples = 1, photometric = 1, orientation = 1;
  uint64_t tile_width = 0, tile_length = 0, rows_per_strip = 0;
  bool has_width = false, has_height = false, extra_alpha = false, tiled = false;
  // libtiff ignores every entry of a tag after its first (found by fuzzing:
  // a second, small ImageLength made this prober pass an image that libtiff
  // then allocated at its first, huge size); so does this.
  std::set<uint32_t> seen;
  const bool complete = tiff.for_each_ifd0_entry([&](const IfdEntry& e) {
    if (!seen.insert(e.tag).second) return;
    uint64_t v = 0;
    if (!tiff.value(e, 0, &v)) return;
    if (e.tag == 256) {
      width = v;
      has_width = true;
    } else if (e.tag == 257) {
      height = v;
      has_height = true;
    } else if (e.tag == 258) {
      bits = v;  // BitsPerSample: the first sample's size stands for all
    } else if (e.tag == 262) {
      photometric = v;
    } else if (e.tag == 277) {
      samples = v;
    } else if (e.tag == kTagOrientation) {
      orientation = v;
    } else if (e.tag == 338) {
      extra_alpha = v == 1 || v == 2;  // ExtraSamples: associated / unassociated alpha
    } else if (e.tag == 322) {
      tile_width = v;
      tiled = true;
    } else if (e.tag == 323) {
      tile_length = v;
      tiled = true;
    } else if (e.tag == 278) {
      rows_per_strip = v;
    }
  });
  if (!complete) fail(path, "truncated TIFF: the first image directory lies outside the file");
  if (!has_width || !has_height) fail(path, "broken TIFF: no image width or height");
  set_size(p, width, height, path);
  p.bit_depth = bits >= 1 && bits <= 64 ? static_cast<int>(bits) : 0;
  p.channels = samples >= 1 && samples <= 16 ? static_cast<int>(samples) : 0;
  if (p.bit_depth == 0 || p.channels == 0) fail(path, "broken TIFF: invalid samples per pixel");
  if (photometric == 3) {  // palette
    p.palette = true;
    p.channels = 3;
  }
  p.cmyk = photometric == 5;  // separated, CMYK by default
  p.transparency = extra_alpha || samples == 2 || (samples >= 4 && !p.cmyk);
  p.exif_orientation = orientation >= 1 && orientation <= 8 ? static_cast<int>(orientation) : 1;
  // The block OpenCV 4.6's decoder allocates a buffer for: a tile, or a strip
  // of RowsPerStrip rows (not clipped to the image's height), with its
  // defaults for missing values.
  p.block_width = tiled && tile_width != 0 ? tile_width : width;
  p.block_height = tiled ? tile_length : rows_per_strip;
  if (p.block_height == 0 || (!tiled && p.block_height == 0xFFFFFFFFu)) p.block_height = height;
  return p;
}

// --- Netpbm (PBM, PGM, PPM, PAM, PFM) -----------------------------------------

bool is_space(uint32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_digit(uint32_t c) {
  return c >= '0' && c <= '9';
}

class PnmHeader {
 public:
  PnmHeader(const Bytes& in, const std::string& path) : in_(in), path_(path) {}

  // Skips white space and '#' comments (to the end of the line).
  void skip_space() {
    while (pos_ < in_.size()) {
      const uint32_t c = in_.u8(pos_);
      if (is_space(c)) {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < in_.size() && in_.u8(pos_) != '\n' && in_.u8(pos_) != '\r') ++pos_;
      } else {
        break;
      }
    }
  }

  // A decimal number; values past 2^32 are refused (no overflow, and no
  // dimension or maxval needs them).
  uint64_t number(const char* what) {
    skip_space();
    if (pos_ >= in_.size()) fail(path_, std::string("truncated PNM header: no ") + what);
    if (!is_digit(in_.u8(pos_))) fail(path_, std::string("broken PNM header: invalid ") + what);
    uint64_t v = 0;
    while (pos_ < in_.size() && is_digit(in_.u8(pos_))) {
      v = v * 10 + (in_.u8(pos_++) - '0');
      if (v > 0xFFFFFFFFu) fail(path_, std::string("broken PNM header: ") + what + " out of range");
    }
    return v;
  }

  // A PAM keyword (a run of non-space bytes, at most 16 of them kept).
  std::string word() {
    skip_space();
    std::string w;
    while (pos_ < in_.size() && !is_space(in_.u8(pos_))) {
      if (w.size() < 16) w += static_cast<char>(in_.u8(pos_));
      ++pos_;
    }
    return w;
  }

  void skip_line() {
    while (pos_ < in_.size() && in_.u8(pos_) != '\n') ++pos_;
  }

  bool at_end() const { return pos_ >= in_.size(); }

 private:
  Bytes in_;
  const std::string& path_;
  size_t pos_ = 2;  // after the magic number
};

int bits_for_maxval(uint64_t maxval) {
  int bits = 0;
  while (maxval > 0) {
    ++bits;
    maxval >>= 1;
  }
  return bits;
}

bool is_pnm(const Bytes& in) {
  // The magic number must be followed by white space, as OpenCV requires.
  if (in.u8(0) != 'P' || !in.has(0, 3) || !is_space(in.u8(2))) return false;
  const uint32_t kind = in.u8(1);
  return (kind >= '1' && kind <= '7') || kind == 'F' || kind == 'f';
}

ImageProbe probe_pnm(const Bytes& in, const std::string& path) {
  ImageProbe p;
  p.format = ImageFormat::Pnm;
  PnmHeader h(in, path);
  const uint32_t kind = in.u8(1);
  if (kind == '7') {  // PAM: "KEY value" lines up to ENDHDR
    uint64_t width = 0, height = 0, depth = 0, maxval = 0;
    for (;;) {  // each turn consumes a word or ends
      if (h.at_end()) fail(path, "truncated PNM header: no ENDHDR");
      const std::string key = h.word();
      if (key == "ENDHDR") break;
      if (key == "WIDTH") {
        width = h.number("width");
      } else if (key == "HEIGHT") {
        height = h.number("height");
      } else if (key == "DEPTH") {
        depth = h.number("depth");
      } else if (key == "MAXVAL") {
        maxval = h.number("maxval");
      } else {
        h.skip_line();  // TUPLTYPE and unknown keys
      }
    }
    if (depth < 1 || depth > 4 || maxval < 1 || maxval > 65535) {
      fail(path, "broken PNM header: invalid PAM depth or maxval");
    }
    set_size(p, width, height, path);
    p.channels = static_cast<int>(depth);
    p.bit_depth = bits_for_maxval(maxval);
    p.max_value = static_cast<int>(maxval);
    p.transparency = depth == 2 || depth == 4;
    return p;
  }
  const uint64_t width = h.number("width");
  const uint64_t height = h.number("height");
  set_size(p, width, height, path);
  if (kind == 'F' || kind == 'f') {  // PFM: float samples, then a scale we do not need
    p.channels = kind == 'F' ? 3 : 1;
    p.bit_depth = 32;
    return p;
  }
  p.channels = (kind == '3' || kind == '6') ? 3 : 1;
  p.text_samples = kind >= '1' && kind <= '3';
  if (kind == '1' || kind == '4') {  // PBM has no maxval
    p.bit_depth = 1;
    return p;
  }
  const uint64_t maxval = h.number("maxval");
  if (maxval < 1 || maxval > 65535) fail(path, "broken PNM header: maxval out of range");
  p.bit_depth = bits_for_maxval(maxval);
  p.max_value = static_cast<int>(maxval);
  return p;
}

// --- Everything else -----------------------------------------------------------

// Formats OpenCV 4.6 (as Debian builds it) reads that are not parsed in full
// here: only their size is, so that --max-pixels holds for them too.

// JPEG 2000: the JP2 file's image header box (ihdr: height, width) or the raw
// codestream's SIZ marker (Xsiz - XOsiz, Ysiz - YOsiz).
ImageProbe probe_jpeg2000(const Bytes& in, const std::string& path) {
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
ImageProbe probe_sun_raster(const Bytes& in, const std::string& path) {
  if (!in.has(0, 32)) fail(path, "truncated Sun raster header");
  ImageProbe p;
  p.format = ImageFormat::Other;
  set_size(p, in.be32(4), in.be32(8), path);
  return p;
}

// Formats OpenCV can decode that the tool refuses from their signature.
void refuse_unwanted_formats(const Bytes& in, const std::string& path) {
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

// Whether the start of the input reads as text: no control characters other
// than white space (bytes >= 0x80 are allowed for UTF-8).
bool looks_like_text(const Bytes& in) {
  const size_t n = in.size() < 512 ? in.size() : 512;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t c = in.u8(i);
    if ((c < 0x20 && !is_space(c)) || c == 0x7F) return false;
  }
  return true;
}

[[noreturn]] void fail_unknown(const Bytes& in, const std::string& path) {
  std::string reason = "not a supported image: unknown format";
  if (matches(in, 0, "GIF87a") || matches(in, 0, "GIF89a")) {
    reason += " (a GIF, which OpenCV 4.6 cannot read)";
  } else if (matches(in, 4, "ftypheic") || matches(in, 4, "ftypheix") ||
             matches(in, 4, "ftypmif1") || matches(in, 4, "ftypavif")) {
    reason += " (a HEIF/AVIF image, which OpenCV 4.6 cannot read)";
  } else if (looks_like_text(in)) {
    reason += " (the file looks like text)";
  }
  fail(path, reason);
}

}  // namespace

const char* format_name(ImageFormat f) {
  // In the order of the enum.
  static const char* const kNames[] = {"unknown", "PNG",  "JPEG", "WebP",
                                       "BMP",     "TIFF", "PNM",  "other"};
  const auto i = static_cast<size_t>(f);
  return i < sizeof kNames / sizeof kNames[0] ? kNames[i] : "unknown";
}

namespace {

bool is_tiff(const Bytes& in) {
  return matches(in, 0, "II*\0") || matches(in, 0, "MM\0*") || matches(in, 0, "II+\0") ||
         matches(in, 0, "MM\0+");
}

ImageProbe probe_bytes(const Bytes& in, const std::string& path, Depth how) {
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
  if (matches(in, 0, "\x59\xA6\x6A\x95")) return probe_sun_raster(in, path);
  refuse_unwanted_formats(in, path);
  fail_unknown(in, path);
}

}  // namespace

ImageProbe probe_image(const unsigned char* data, size_t size, const std::string& path) {
  return probe_bytes(Bytes(data, size), path, Depth::Full);
}

std::optional<ImageProbe> probe_header(const unsigned char* head, size_t head_size,
                                       uint64_t file_size, const ReadAt& read_at,
                                       const std::string& path) {
  const Bytes in(head, head_size);
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
