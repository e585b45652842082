// HEIF (HEIC) and AVIF through libheif, which OpenCV 4.6 does not read:
// decoding (8-bit as 8-bit, 10- and 12-bit as 16-bit, alpha kept, the
// file's rotation and mirroring applied) with the file's metadata, and AVIF
// encoding with metadata written in. Private to the io layer: image_io.cpp
// dispatches here by the probed format and the output extension.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "fdiwn/metadata.hpp"

namespace fdiwn::io {

/// Decodes the primary image of a HEIF or AVIF file that the header prober
/// has accepted. Its size is checked again as libheif sees it against
/// `max_pixels` (0: none) before decoding. Fills `metadata` (EXIF, ICC
/// profile, XMP) if not null. Throws ImageError naming `path`.
cv::Mat decode_heif(const std::vector<unsigned char>& bytes, int64_t max_pixels,
                    const std::string& path, ImageMetadata* metadata,
                    std::vector<std::string>& notes);

/// Encodes an 8- or 16-bit gray, BGR or BGRA image as 8-bit AVIF, lossless at quality 100, with
/// `metadata` written in (its EXIF updated for the image as embed_metadata does) if not null.
/// Throws ImageError naming `path`.
std::vector<unsigned char> encode_avif(const cv::Mat& image, int quality,
                                       const ImageMetadata* metadata, const std::string& path);

/// True if this libheif can encode AV1.
bool can_encode_avif();

/// libheif's version and its decoders and encoders, for `fdiwn info`:
/// "1.15.1 (HEVC: libde265; AV1: dav1d, aom; encoders: aom)".
std::string heif_library_text();

}  // namespace fdiwn::io
