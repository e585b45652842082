// Image files: reading every common kind as it came (8/16-bit, gray, alpha,
// palette, EXIF orientation, PNM maxval) with clear errors and bounded
// memory, and writing them through the safe writer of files.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

#include "fdiwn/export.hpp"
#include "fdiwn/files.hpp"
#include "fdiwn/image_probe.hpp"
#include "fdiwn/metadata.hpp"

FDIWN_API_BEGIN
namespace fdiwn {

struct ReadOptions {
  /// Refuse images with more pixels than this, from the header, before
  /// reading the rest of the file (0: no limit of ours; OpenCV's own still
  /// applies). A TIFF tile or strip larger than this is refused too.
  int64_t max_pixels = 0;
  /// The file itself: a size limit (checked before reading past the header)
  /// and a stop flag polled while reading.
  ReadLimits file;
  /// If set, called once the header has been checked, before the rest of the
  /// file is read, with the memory the read and decode will hold at their
  /// peak (the file's bytes, the pixels, the decoder's buffers): a caller can
  /// wait there for memory to free up, or throw to refuse the image.
  std::function<void(const ImageProbe& probe, std::size_t bytes_needed)> on_header;
  /// Also read the file's metadata (EXIF, ICC profile, XMP, IPTC) into
  /// LoadedImage::metadata, once the file has passed the header checks and
  /// decoded.
  bool metadata = false;
};

struct LoadedImage {
  /// Gray, BGR or BGRA; 8-bit or 16-bit; EXIF orientation applied.
  cv::Mat pixels;
  /// What the header says, before decoding (size as stored).
  ImageProbe probe;
  /// Things the caller may want to tell the user (CMYK converted, ...).
  std::vector<std::string> notes;
  /// Filled if ReadOptions::metadata asked for it.
  ImageMetadata metadata;
};

/// Reads an image file: its header first (from the first bytes, so that a
/// file can be refused before it is read), then the file, then the pixels.
/// Throws ImageError naming the file and the reason: missing, not a regular
/// file, unreadable, empty, not an image, truncated, over max_pixels or the
/// file size limit, or a pixel type fdiwn does not handle; Cancelled if the
/// stop flag was raised while reading.
LoadedImage read_image(const std::string& path, const ReadOptions& options = {});

/// The same from a stream (standard input, a pipe) on `fd`, read to its
/// end: the header checks run on its first bytes before the rest is read;
/// the size limit applies as it is read. `name` names it in errors.
LoadedImage read_image_stream(int fd, const std::string& name, const ReadOptions& options = {});

/// The same from the file's bytes (`path` only names it in errors).
LoadedImage decode_image(const std::vector<unsigned char>& bytes, const std::string& path,
                         const ReadOptions& options = {});

/// As read_image, converted to 8-bit BGR (for evaluation code).
cv::Mat read_image_bgr8(const std::string& path, const ReadOptions& options = {});

/// True if OpenCV can write files with this extension (".png", "jpg", ...).
bool is_writable_extension(const std::string& extension);
/// True for the extensions fdiwn reads ("png", ".JPG", ...).
bool is_readable_extension(const std::string& extension);

struct WriteOptions {
  int quality = 95;         ///< JPEG, WebP and AVIF, 1..100 (WebP, AVIF: 100 is lossless)
  int png_compression = 6;  ///< zlib level 0..9
};

/// Converts `image` to what the format of `extension` can store (JPEG, WebP
/// and BMP: 8 bits; JPEG, BMP and PNM: no alpha) and says what it changed.
cv::Mat fit_to_format(const cv::Mat& image, const std::string& extension,
                      std::vector<std::string>* notes = nullptr);

/// Throws ImageError(path, ...) if an image of `size` cannot be written in
/// the format of `extension` (WebP: at most 16383 pixels a side; JPEG:
/// 65500), so that a caller can refuse it before computing it.
void check_encodable(const std::string& extension, cv::Size size, const std::string& path);

/// Encodes an image (already fit to the format) in the format `extension`
/// names, with `metadata` written in where the format holds it (see
/// embed_metadata; notes say what was left out). Throws ImageError(path,
/// ...) if the format is unknown or fails.
std::vector<unsigned char> encode_image(const cv::Mat& image, const std::string& extension,
                                        const WriteOptions& options, const std::string& path,
                                        const ImageMetadata* metadata = nullptr,
                                        std::vector<std::string>* notes = nullptr);

/// A format fdiwn reads or writes, and the library behind it.
struct ImageFormatSupport {
  std::string name;              ///< "PNG"
  std::string read_extensions;   ///< "png"
  std::string write_extensions;  ///< empty if not written
  std::string library;           ///< "libpng 1.6.39 (through OpenCV 4.6.0)"
};

/// Every format, for `fdiwn info`.
std::vector<ImageFormatSupport> image_formats();

/// fit_to_format + encode_image + write_file (files.hpp: atomic, or in place
/// for a FIFO or /dev/null), the format taken from `path`'s extension.
/// Throws ImageError naming `path` and the reason.
void write_image(const std::string& path, const cv::Mat& image, const WriteOptions& options = {},
                 const TempFileHooks* hooks = nullptr, std::vector<std::string>* notes = nullptr);

}  // namespace fdiwn
FDIWN_API_END
