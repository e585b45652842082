#include "cli/process/decoder_limits.hpp"

#include <cstdlib>
#include <string>

namespace fdiwn::cli {

void cap_decoded_pixels(int64_t max_pixels) {
  if (max_pixels <= 0) return;
  ::setenv("OPENCV_IO_MAX_IMAGE_PIXELS", std::to_string(max_pixels).c_str(), /*overwrite=*/0);
}

}  // namespace fdiwn::cli
