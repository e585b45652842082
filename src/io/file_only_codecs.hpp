// OpenCV 4.6 decodes and encodes a few formats (Sun raster, PFM) only
// through a file: given memory, cv::imdecode and cv::imencode copy the data
// to /tmp/__opencv_temp.* and back. That copy was left behind when a decoder
// threw, failed where /tmp was not writable, and, when /tmp was full, made
// cv::imencode return a cut or empty image as a success. Private to the io
// layer: image_io.cpp routes such formats here.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace fdiwn::io {

/// True if `bytes` start with the Sun raster signature: the one format
/// fdiwn reads that OpenCV decodes only from a file (its JPEG 2000 decoder
/// reads memory).
bool is_sun_raster(const std::vector<unsigned char>& bytes);

/// Decodes `bytes` from an anonymous memory file (cv::imread finds the
/// decoder from the data, not the name): nothing is written to disk, and no
/// way of ending the process leaves anything behind. Throws ImageError
/// naming `path` and the system's reason if no memory file can be made,
/// filled or opened (it is opened through /proc); an empty Mat if OpenCV
/// cannot decode the data.
cv::Mat decode_from_memory_file(const std::vector<unsigned char>& bytes, const std::string& path);

/// Throws ImageError naming `path` unless `encoded` is a whole uncompressed
/// Sun raster of `image` (OpenCV's layout: a 32-byte header, then rows of
/// 8-bit samples padded to an even length): OpenCV does not notice when its
/// temporary copy could not be written in full.
void check_sun_raster_size(const cv::Mat& image, const std::vector<unsigned char>& encoded,
                           const std::string& path);

}  // namespace fdiwn::io
