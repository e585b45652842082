// Image files: reading every common kind as it came (8/16-bit, gray, alpha,
// palette, EXIF orientation) with clear errors, and writing atomically.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "fdiwn/image_probe.hpp"

namespace fdiwn {

struct ReadOptions {
  /// Refuse images with more pixels than this, from the header, before
  /// decoding anything (0: no limit of ours; OpenCV's own still applies).
  int64_t max_pixels = 0;
  /// If set, called with the header once it has been checked, before the
  /// pixels are decoded (a caller can wait there for memory to free up).
  std::function<void(const ImageProbe&)> on_header;
};

struct LoadedImage {
  /// Gray, BGR or BGRA; 8-bit or 16-bit; EXIF orientation applied.
  cv::Mat pixels;
  /// What the header says, before decoding (size as stored).
  ImageProbe probe;
  /// Things the caller may want to tell the user (CMYK converted, ...).
  std::vector<std::string> notes;
};

/// Reads an image file. Throws ImageError naming the file and the reason:
/// missing, unreadable, empty, not an image, truncated, over max_pixels,
/// or a pixel type fdiwn does not handle.
LoadedImage read_image(const std::string& path, const ReadOptions& options = {});

/// The same from the file's bytes (`path` only names it in errors).
LoadedImage decode_image(const std::vector<unsigned char>& bytes, const std::string& path,
                         const ReadOptions& options = {});

/// As read_image, converted to 8-bit BGR (for evaluation code).
cv::Mat read_image_bgr8(const std::string& path);

/// True if OpenCV can write files with this extension (".png", "jpg", ...).
bool is_writable_extension(const std::string& extension);
/// True for the extensions fdiwn reads ("png", ".JPG", ...).
bool is_readable_extension(const std::string& extension);

struct WriteOptions {
  int quality = 95;         ///< JPEG and WebP, 1..100 (WebP: 100 is lossless)
  int png_compression = 6;  ///< zlib level 0..9
};

/// Converts `image` to what the format of `extension` can store (JPEG, WebP
/// and BMP: 8 bits; JPEG, BMP and PNM: no alpha) and says what it changed.
cv::Mat fit_to_format(const cv::Mat& image, const std::string& extension,
                      std::vector<std::string>* notes = nullptr);

/// Encodes an image (already fit to the format) in the format `extension`
/// names. Throws ImageError(path, ...) if the format is unknown or fails.
std::vector<unsigned char> encode_image(const cv::Mat& image, const std::string& extension,
                                        const WriteOptions& options, const std::string& path);

/// Observers of the temporary file an atomic write goes through, so that a
/// caller can remove it if the process is interrupted mid-write.
struct TempFileHooks {
  std::function<void(const std::string& temp_path)> created;
  std::function<void(const std::string& temp_path)> finished;  ///< renamed or removed
};

/// Writes `bytes` so that `path` is either untouched or holds the complete
/// new file: a temporary file in the same folder, flushed to disk, renamed
/// over `path`. Throws ImageError (and leaves no temporary file) if the
/// folder is not writable, the disk is full, ...
void write_file_atomic(const std::string& path, const std::vector<unsigned char>& bytes,
                       const TempFileHooks* hooks = nullptr);

/// fit_to_format + encode_image + write_file_atomic, the extension taken
/// from `path`.
void write_image_atomic(const std::string& path, const cv::Mat& image,
                        const WriteOptions& options = {});

}  // namespace fdiwn
