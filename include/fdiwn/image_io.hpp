// Image files: reading with clear errors, writing atomically.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace fdiwn {

/// Reads an image file as 8-bit BGR. Throws ImageError naming the file and
/// the reason (missing, unreadable, empty, not a decodable image).
cv::Mat read_image_bgr8(const std::string& path);

/// Encodes `image` in the format its extension names and writes it so that
/// `path` is either untouched or holds the complete new file: the bytes go
/// to a temporary file in the same folder, which is flushed to disk and then
/// renamed over `path`. Throws ImageError (and leaves no temporary file) if
/// the format is unknown, encoding fails or the folder is not writable.
void write_image_atomic(const std::string& path, const cv::Mat& image,
                        const std::vector<int>& encode_params = {});

}  // namespace fdiwn
