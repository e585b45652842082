// Video frames through a pipe: binary PNM images one after another, as
// ffmpeg writes them with `-f image2pipe -c:v ppm` (and reads them back the
// same way), read one frame at a time with the checks a file gets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "fdiwn/export.hpp"
#include "fdiwn/image_io.hpp"

FDIWN_API_BEGIN
namespace fdiwn {

/// Reads the frames of a stream on `fd` (standard input, a pipe) until it
/// ends. Each frame is a binary PNM image (P6 colour or P5 gray, 8-bit or
/// 16-bit, any maxval), of the same size and kind as the first.
class FrameReader {
 public:
  /// `name` names the stream in errors ("standard input"); `options`:
  /// max_pixels (checked on each frame's header, before its pixels are
  /// read) and the stop flag (file.stop, polled while no data comes).
  FrameReader(int fd, std::string name, const ReadOptions& options);

  /// The next frame (BGR or gray, 8- or 16-bit), or nothing once the stream
  /// has ended between two frames. Throws ImageError naming the stream and
  /// the frame (counted from 1) for an empty stream, one that ends inside a
  /// frame, a frame that is not binary PNM, one over max_pixels, or one
  /// unlike the first; Cancelled when the stop flag is raised.
  std::optional<cv::Mat> next();

  /// Frames returned so far.
  int64_t frames() const { return frames_; }

  /// "standard input, frame 3": the frame being read, for messages.
  std::string where() const;

 private:
  struct Header {
    int width = 0, height = 0, channels = 0, max_value = 0;
    size_t length = 0;  ///< bytes before the pixels
    bool operator==(const Header& o) const {
      return width == o.width && height == o.height && channels == o.channels &&
             max_value == o.max_value;
    }
  };
  std::optional<Header> parse_header() const;
  void read_more(size_t up_to);

  int fd_;
  std::string name_;
  int64_t max_pixels_;
  ReadLimits limits_;
  std::vector<unsigned char> buffer_;  ///< read, not yet returned
  std::optional<Header> first_;
  int64_t frames_ = 0;
};

}  // namespace fdiwn
FDIWN_API_END
