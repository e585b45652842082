// libFuzzer target: arbitrary bytes as an image file, through the same
// path `fdiwn upscale` reads with (header check, size limit, decode, EXIF
// orientation). It must answer with an ImageError or a valid image.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <opencv2/core/utils/logger.hpp>

#include "fdiwn/errors.hpp"
#include "fdiwn/image_io.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  // No backstop here (fdiwn sets OPENCV_IO_MAX_IMAGE_PIXELS to --max-pixels):
  // the header checks alone must keep every decode within the limit, and a
  // larger allocation is the finding.
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fdiwn::ReadOptions options;
  options.max_pixels = 4'000'000;  // as --max-pixels: refused from the header
  try {
    const auto image =
        fdiwn::decode_image(std::vector<unsigned char>(data, data + size), "fuzz-input", options);
    const cv::Mat& m = image.pixels;
    if (m.empty() || (m.channels() != 1 && m.channels() != 3 && m.channels() != 4) ||
        (m.depth() != CV_8U && m.depth() != CV_16U)) {
      __builtin_trap();  // decode_image promised a usable image
    }
  } catch (const fdiwn::ImageError&) {
  }
  return 0;
}
