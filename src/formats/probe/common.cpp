// What the probers share: sizes checked alike, names made printable.
#include <limits>
#include <string>

#include "formats/probe/probers.hpp"

namespace fdiwn::probe {

std::string printable(const ByteView& in, size_t off, size_t n) {
  std::string s;
  for (size_t i = 0; i < n && in.has(off + i, 1); ++i) {
    const uint32_t c = in.u8(off + i);
    s += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
  }
  return s;
}

void set_size(ImageProbe& p, uint64_t width, uint64_t height, const std::string& path) {
  if (width == 0 || height == 0) {
    fail(path, "invalid image size " + std::to_string(width) + "x" + std::to_string(height) +
                   " (zero width or height)");
  }
  const uint64_t max = static_cast<uint64_t>(std::numeric_limits<int>::max());
  if (width > max || height > max) {
    fail(path, "invalid image size " + std::to_string(width) + "x" + std::to_string(height) +
                   " (beyond 2^31 - 1)");
  }
  p.width = static_cast<int>(width);
  p.height = static_cast<int>(height);
}

}  // namespace fdiwn::probe
