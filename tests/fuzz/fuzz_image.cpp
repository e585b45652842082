// libFuzzer target: arbitrary bytes as an image file, through the same
// path `fdiwn upscale` reads with (header check, size limit, decode, EXIF
// orientation, metadata) and writes its metadata with. It must answer with
// an ImageError or a valid image, and never crash in the metadata path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include <opencv2/core/utils/logger.hpp>

#include "fdiwn/errors.hpp"
#include "fdiwn/image_io.hpp"
#include "fdiwn/metadata.hpp"

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
  options.metadata = true;
  try {
    const auto image =
        fdiwn::decode_image(std::vector<unsigned char>(data, data + size), "fuzz-input", options);
    const cv::Mat& m = image.pixels;
    if (m.empty() || (m.channels() != 1 && m.channels() != 3 && m.channels() != 4) ||
        (m.depth() != CV_8U && m.depth() != CV_16U)) {
      __builtin_trap();  // decode_image promised a usable image
    }
    // The metadata read from it, written into a small image of each kind.
    for (const char* ext : {".jpg", ".png", ".webp", ".tiff"}) {
      std::vector<unsigned char> out;
      cv::imencode(ext, cv::Mat(2, 3, CV_8UC3, cv::Scalar::all(90)), out);
      fdiwn::embed_metadata(out, ext, image.metadata, cv::Size(3, 2));
    }
  } catch (const fdiwn::ImageError&) {
  }
  return 0;
}
