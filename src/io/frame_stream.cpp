// Binary PNM frames from a pipe (see frame_stream.hpp). The header is read a
// little at a time (it is short, and its end is only known once parsed);
// the pixels are then read to the frame's end, and a stream cut anywhere is
// reported as such.
#include "fdiwn/frame_stream.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

#include <opencv2/imgproc.hpp>

#include "fdiwn/errors.hpp"
#include "io/pixel_limit.hpp"

namespace fdiwn {

namespace {

// A header with comments in it is still short: ffmpeg's is about 15 bytes.
constexpr size_t kMaxHeaderBytes = 4096;
// Read this much more at a time while the header is incomplete.
constexpr size_t kHeaderStep = 64;

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

// "640x360 P6 8-bit", with the maxval where it is not the full range (two
// 8-bit frames of maxvals 255 and 200 differ: found by hand as "8-bit,
// unlike the first (8-bit)").
std::string describe(int width, int height, int channels, int max_value) {
  const bool full = max_value == 255 || max_value == 65535;
  return std::to_string(width) + "x" + std::to_string(height) + (channels == 3 ? " P6" : " P5") +
         (max_value > 255 ? " 16-bit" : " 8-bit") +
         (full ? "" : " (maxval " + std::to_string(max_value) + ")");
}

}  // namespace

FrameReader::FrameReader(int fd, std::string name, const ReadOptions& options)
    : fd_(fd), name_(std::move(name)), max_pixels_(options.max_pixels) {
  // Frames have no size limit of their own: each is sized by its header,
  // which is checked against max_pixels before its pixels are read.
  limits_.stop = options.file.stop;
}

std::string FrameReader::where() const {
  return name_ + ", frame " + std::to_string(frames_ + 1);
}

void FrameReader::read_more(size_t up_to) {
  try {
    buffer_ = read_stream(fd_, name_, limits_, std::move(buffer_), up_to);
  } catch (const FileError& e) {
    throw ImageError(where(), e.reason());
  }
}

// The header at the start of the buffer: "P6", whitespace and comments,
// width, height, maxval, then one whitespace byte. Nothing if the buffer
// ends first; throws if what is there cannot be a binary PNM header.
std::optional<FrameReader::Header> FrameReader::parse_header() const {
  const auto& b = buffer_;
  const auto refuse = [&](const std::string& why) { throw ImageError(where(), why); };
  const char* kind = "not a binary PNM frame (P6 or P5, as ffmpeg -f image2pipe -c:v ppm writes)";
  if (!b.empty() && b[0] != 'P') refuse(kind);
  if (b.size() < 2) return std::nullopt;
  if (b[1] != '6' && b[1] != '5') refuse(kind);
  size_t pos = 2;
  uint64_t values[3] = {0, 0, 0};
  for (uint64_t& value : values) {
    while (pos < b.size() && (is_space(b[pos]) || b[pos] == '#')) {
      if (b[pos] == '#') {
        while (pos < b.size() && b[pos] != '\n') ++pos;
      } else {
        ++pos;
      }
    }
    if (pos >= b.size()) return std::nullopt;
    if (!is_digit(b[pos])) refuse("broken PNM frame header: a number was expected");
    while (pos < b.size() && is_digit(b[pos])) {
      value = value * 10 + (b[pos] - '0');
      if (value > 1000000000) refuse("broken PNM frame header: a number over 10^9");
      ++pos;
    }
    if (pos >= b.size()) return std::nullopt;
  }
  if (!is_space(b[pos])) refuse("broken PNM frame header: no whitespace after the maxval");
  if (values[0] == 0 || values[1] == 0) refuse("the frame header says it has no pixels");
  if (values[2] == 0 || values[2] > 65535) {
    refuse("the frame header's maxval is " + std::to_string(values[2]) + " (1..65535 allowed)");
  }
  Header h;
  h.width = static_cast<int>(values[0]);
  h.height = static_cast<int>(values[1]);
  h.max_value = static_cast<int>(values[2]);
  h.channels = b[1] == '6' ? 3 : 1;
  h.length = pos + 1;
  return h;
}

std::optional<cv::Mat> FrameReader::next() {
  std::optional<Header> h;
  while (!(h = parse_header())) {
    if (buffer_.size() > kMaxHeaderBytes) {
      throw ImageError(where(), "broken PNM frame header (no end in its first 4 KiB)");
    }
    const size_t before = buffer_.size();
    read_more(before + kHeaderStep);
    if (buffer_.size() > before) continue;
    if (before != 0) throw ImageError(where(), "the stream ends inside the frame's header");
    if (frames_ == 0) throw ImageError(where(), "the stream is empty (no frame came)");
    return std::nullopt;
  }
  const int64_t pixels = int64_t{h->width} * h->height;
  if (max_pixels_ > 0 && pixels > max_pixels_) {
    throw ImageError(where(), too_many_pixels("frame", h->width, h->height, max_pixels_));
  }
  if (first_ && !(*h == *first_)) {
    throw ImageError(
        where(), "the frame is " + describe(h->width, h->height, h->channels, h->max_value) +
                     ", unlike the first (" +
                     describe(first_->width, first_->height, first_->channels, first_->max_value) +
                     "): a stream's frames must all be alike");
  }
  const int sample_bytes = h->max_value > 255 ? 2 : 1;
  const size_t pixel_bytes = static_cast<size_t>(pixels) * h->channels * sample_bytes;
  read_more(h->length + pixel_bytes);
  if (buffer_.size() < h->length + pixel_bytes) {
    throw ImageError(where(), "the stream ends inside the frame (" +
                                  std::to_string(buffer_.size() - h->length) + " of " +
                                  std::to_string(pixel_bytes) + " bytes of its pixels came)");
  }
  const int depth = sample_bytes == 2 ? CV_16U : CV_8U;
  cv::Mat frame(h->height, h->width, CV_MAKETYPE(depth, h->channels));
  std::memcpy(frame.data, buffer_.data() + h->length, pixel_bytes);
  // What the header's reading took of the next frame (tiny frames) stays.
  buffer_.erase(buffer_.begin(),
                buffer_.begin() + static_cast<std::ptrdiff_t>(h->length + pixel_bytes));
  if (sample_bytes == 2) {
    // PNM samples are big-endian.
    auto* s = reinterpret_cast<uint16_t*>(frame.data);
    for (size_t i = 0; i < pixel_bytes / 2; ++i)
      s[i] = static_cast<uint16_t>(s[i] << 8 | s[i] >> 8);
  }
  const int full = sample_bytes == 2 ? 65535 : 255;
  if (h->max_value != full) frame.convertTo(frame, depth, static_cast<double>(full) / h->max_value);
  if (h->channels == 3) cv::cvtColor(frame, frame, cv::COLOR_RGB2BGR);
  first_ = h;
  ++frames_;
  return frame;
}

}  // namespace fdiwn
