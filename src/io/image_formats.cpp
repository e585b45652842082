// The table of formats for `fdiwn info`: what is read and written, and the
// library behind each, with the version it reports at run time (OpenCV's
// build information names the codec libraries it was built with).
#include <sstream>
#include <string>
#include <vector>

#include <webp/mux.h>
#include <opencv2/core/utility.hpp>

#include "fdiwn/image_io.hpp"
#include "io/heif_codec.hpp"

namespace fdiwn {

namespace {

// From OpenCV's "Media I/O" lines, e.g. "    PNG:   /usr/lib/.../libpng.so
// (ver 1.6.39)": "libpng 1.6.39". `key` is the line's label.
std::string opencv_codec(const std::string& key, const std::string& fallback) {
  std::istringstream info(cv::getBuildInformation());
  std::string line;
  while (std::getline(info, line)) {
    const size_t label = line.find_first_not_of(' ');
    if (label == std::string::npos || line.compare(label, key.size() + 1, key + ":") != 0) {
      continue;
    }
    std::string library = fallback;
    const size_t lib = line.rfind("/lib");
    if (lib != std::string::npos) {
      const size_t end = line.find(".so", lib);
      library = line.substr(lib + 1, end == std::string::npos ? std::string::npos : end - lib - 1);
    }
    const size_t ver = line.find("(ver ");
    if (ver != std::string::npos) {
      const size_t close = line.find(')', ver);
      std::string version =
          line.substr(ver + 5, close == std::string::npos ? std::string::npos : close - ver - 5);
      // "42 / 4.5.0": the ABI number, then the release.
      const size_t slash = version.find(" / ");
      if (slash != std::string::npos) version = version.substr(slash + 3);
      library += " " + version;
    }
    return library + " (through OpenCV " + CV_VERSION + ")";
  }
  return fallback + " (through OpenCV " + CV_VERSION + ")";
}

// OpenCV reports only libwebp's encoder ABI; libwebpmux (linked for the
// metadata) reports the release.
std::string webp_library() {
  const int v = WebPGetMuxVersion();
  return "libwebp " + std::to_string(v >> 16) + "." + std::to_string((v >> 8) & 0xFF) + "." +
         std::to_string(v & 0xFF) + " (through OpenCV " + CV_VERSION + "; libwebpmux for metadata)";
}

}  // namespace

std::vector<ImageFormatSupport> image_formats() {
  const std::string heif = io::heif_library_text();
  const bool avif_out = io::can_encode_avif();
  return {
      {"PNG", "png", "png", opencv_codec("PNG", "libpng")},
      {"JPEG", "jpg jpeg jpe", "jpg jpeg jpe", opencv_codec("JPEG", "libjpeg")},
      {"WebP", "webp", "webp", webp_library()},
      {"TIFF", "tif tiff", "tif tiff", opencv_codec("TIFF", "libtiff")},
      {"BMP", "bmp dib", "bmp dib", "OpenCV " CV_VERSION},
      {"Netpbm", "pbm pgm ppm pnm pxm", "ppm pgm pnm", "OpenCV " CV_VERSION},
      {"Sun raster", "sr ras", "sr ras", "OpenCV " CV_VERSION},
      {"JPEG 2000", "jp2", "", opencv_codec("JPEG 2000", "OpenJPEG")},
      {"HEIF (HEIC)", "heic heif hif", "", heif},
      {"AVIF", "avif", avif_out ? "avif" : "", heif},
  };
}

}  // namespace fdiwn
