// TIFF files and EXIF blocks: both are TIFF directories.
#include "formats/probe/probers.hpp"

#include <set>
#include <string>

#include "formats/probe/tiff_directory.hpp"

namespace fdiwn::probe {

// The Orientation of an EXIF block (a TIFF structure, optionally behind the
// "Exif\0\0" header some writers repeat). Anything malformed gives 1: a bad
// EXIF block must never stop an image from being read.
int exif_orientation(ByteView exif) {
  if (matches(exif, 0, "Exif\0\0")) exif = exif.from(6);
  TiffReader<ByteView> tiff(exif);
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
  p.more_images = tiff.has_second_directory();
  // The block OpenCV 4.6's decoder allocates a buffer for: a tile, or a strip
  // of RowsPerStrip rows (not clipped to the image's height), with its
  // defaults for missing values.
  p.block_width = tiled && tile_width != 0 ? tile_width : width;
  p.block_height = tiled ? tile_length : rows_per_strip;
  if (p.block_height == 0 || (!tiled && p.block_height == 0xFFFFFFFFu)) p.block_height = height;
  return p;
}

// The two sources a TIFF is probed from: a file in memory, and one read on
// demand (its first directory may lie anywhere).
template ImageProbe probe_tiff<ByteView>(const ByteView&, const std::string&);
template ImageProbe probe_tiff<FileBytes>(const FileBytes&, const std::string&);

}  // namespace fdiwn::probe
