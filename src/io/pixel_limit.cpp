#include "io/pixel_limit.hpp"

#include <cstdio>

namespace fdiwn {

std::string pixel_count(int64_t pixels) {
  if (pixels >= 100000) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.1f MP", static_cast<double>(pixels) / 1e6);
    return buf;
  }
  std::string digits = std::to_string(pixels);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
    digits.insert(static_cast<size_t>(i), ",");
  }
  return digits + (pixels == 1 ? " pixel" : " pixels");
}

// Found by hand: the frame stream and HEIF said "more pixels than allowed"
// without the limit, which the image reader gave.
std::string too_many_pixels(const char* what, int64_t width, int64_t height, int64_t max_pixels) {
  return std::string("the ") + what + " is " + std::to_string(width) + "x" +
         std::to_string(height) + " (" + pixel_count(width * height) + "), more than the " +
         pixel_count(max_pixels) + " allowed (--max-pixels)";
}

}  // namespace fdiwn
