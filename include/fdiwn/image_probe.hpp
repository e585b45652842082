// Image header probing: what an image file is, how large it claims to be and
// whether it is structurally complete, read from the bytes alone, before any
// pixel is decoded.
//
// Why before decoding: OpenCV allocates the full image from the header before
// it reads the pixels (a 200-byte PNG can claim 100000x100000), decodes a
// truncated JPEG into a silently grey-filled image, prints libpng noise for a
// truncated PNG, and ignores the EXIF orientation when asked for
// IMREAD_UNCHANGED (which we need for alpha and 16-bit). The prober answers
// all of these first, cheaply, so the caller can refuse or correct the image.
//
// The prober uses only the standard library (it is fuzzed on its own): every
// offset read from the file is bounds-checked, every loop over chunks,
// segments or directory entries is bounded by the input size, nothing is
// allocated in proportion to a header field, and the only exception it throws
// is fdiwn::ImageError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>
#include "fdiwn/export.hpp"

// Forward declaration so that this header, and the prober behind it, need no
// OpenCV; callers of apply_exif_orientation include OpenCV themselves.
namespace cv {
class Mat;
}

FDIWN_API_BEGIN
namespace fdiwn {

enum class ImageFormat {
  Unknown,
  Png,
  Jpeg,
  WebP,
  Bmp,
  Tiff,  // classic TIFF and BigTIFF
  Pnm,   // the Netpbm family: PBM, PGM, PPM (plain and raw), PAM, PFM
  Heif,  // HEIF with HEVC (HEIC) or another codec, decoded by libheif
  Avif,  // AVIF (HEIF with AV1), decoded by libheif
  Other  // a format OpenCV reads of which only the size is parsed here: JPEG
         // 2000, Sun raster. (OpenEXR, Radiance HDR and DICOM are refused.)
};

/// "PNG", "JPEG", "WebP", "BMP", "TIFF", "PNM", "HEIF", "AVIF", "other",
/// "unknown".
const char* format_name(ImageFormat f);

/// What the header of an image says. For format Other only `format`, `width`
/// and `height` are set.
struct ImageProbe {
  ImageFormat format = ImageFormat::Unknown;
  /// As stored, before EXIF orientation (orientations 5..8 swap them).
  int width = 0, height = 0;
  /// Samples per pixel as stored: 1 gray, 2 gray+alpha, 3 colour, 4 colour+alpha
  /// or CMYK. A palette image counts as colour (3), whatever its index size,
  /// except a BMP palette of only grays (1). Not always what OpenCV 4.6
  /// decodes to with IMREAD_UNCHANGED: it gives 4 channels for PNG gray+alpha
  /// and for colour or palette PNG with tRNS, 3 for CMYK JPEG (checked by the
  /// tests where they can make such files).
  int channels = 0;
  /// Bits per sample as stored: 1..16 for integer samples (the index size for a
  /// palette image), 8 for JPEG (12 for the rare 12-bit JPEG), 32 for float
  /// TIFF and PFM. For BMP with 16 or more bits per pixel: 8.
  int bit_depth = 0;
  bool palette = false;       // PNG colour type 3, BMP with <= 8 bpp, TIFF palette
  bool transparency = false;  // an alpha channel, or a PNG tRNS chunk
  bool cmyk = false;          // JPEG with 4 components (Adobe CMYK/YCCK), TIFF separated
  /// More than one image: an APNG (acTL), an animated WebP, or a TIFF with a
  /// second image directory (pages). OpenCV reads the first image only.
  bool more_images = false;
  /// The EXIF orientation, 1..8 (1 = none, absent or invalid): JPEG APP1
  /// "Exif", PNG eXIf, WebP EXIF chunk, TIFF Orientation tag. What the file
  /// says; see orientation_to_apply for what is left to do after decoding.
  int exif_orientation = 1;
  /// PNM and PAM: the largest sample value the header declares (maxval), 0
  /// for other formats. Samples are scaled from 0..maxval to the full 8 or
  /// 16 bits on reading.
  int max_value = 0;
  /// PNM: samples written as decimal text (P1, P2, P3), which OpenCV 4.6
  /// already scales to 0..255 when maxval is below 256.
  bool text_samples = false;
  /// TIFF: the block (tile, or strip of RowsPerStrip rows) the decoder reads
  /// at once and allocates a buffer for, which a hostile file can make far
  /// larger than the image. 0 for other formats.
  uint64_t block_width = 0, block_height = 0;
};

/// Probes the image in `data[0, size)`; `path` is only used in error messages.
/// Throws ImageError(path, reason) for empty input, an unknown format, a
/// truncated or structurally broken PNG or JPEG, an unreadable header of the
/// other parsed formats, and zero (or beyond INT_MAX) width or height. A
/// malformed EXIF block is never an error: the orientation is then 1.
ImageProbe probe_image(const unsigned char* data, size_t size, const std::string& path);

inline ImageProbe probe_image(const std::vector<unsigned char>& bytes, const std::string& path) {
  return probe_image(bytes.data(), bytes.size(), path);
}

/// Reads up to `n` bytes at `offset` of the file being probed (fewer at its
/// end). May throw (the reader's own errors pass through).
using ReadAt = std::function<std::vector<unsigned char>(uint64_t offset, size_t n)>;

/// What the header says, from the first bytes of a file (`head`) whose full
/// size is `file_size`: so that a file can be refused (too many pixels, a
/// tile too large, over the memory budget) before the rest of it is read.
/// The format, size, channels and bit depth are set as probe_image sets them;
/// the structure of the rest of the file is not checked (probe_image does
/// that once the file is read). A TIFF directory is read where it lies, with
/// `read_at`. Returns nullopt if `head` does not reach the header (a JPEG
/// whose frame header follows large metadata); throws ImageError only for
/// what is broken within `head`.
std::optional<ImageProbe> probe_header(const unsigned char* head, size_t head_size,
                                       uint64_t file_size, const ReadAt& read_at,
                                       const std::string& path);

/// The orientation still to apply to OpenCV 4.6's IMREAD_UNCHANGED decode of
/// the probed image: `exif_orientation`, except for TIFF, whose decoder
/// applies the Orientation tag itself even for IMREAD_UNCHANGED (checked by
/// the tests). JPEG and PNG orientations are applied by OpenCV only for
/// IMREAD_COLOR and the like; WebP's never.
inline int orientation_to_apply(const ImageProbe& probe) {
  return probe.format == ImageFormat::Tiff ? 1 : probe.exif_orientation;
}

/// Turns an image decoded as stored (IMREAD_UNCHANGED) into the way it is
/// meant to be seen, as OpenCV's IMREAD_COLOR does for EXIF orientation
/// `orientation` (1..8, the TIFF/EXIF Orientation tag). Returns `image` itself
/// (sharing its data) for 1; throws InvalidArgument outside 1..8. Any type and
/// channel count. Implemented in exif_orientation.cpp (needs OpenCV core).
cv::Mat apply_exif_orientation(const cv::Mat& image, int orientation);

}  // namespace fdiwn
FDIWN_API_END
