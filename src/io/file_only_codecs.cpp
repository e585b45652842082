#include "io/file_only_codecs.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <opencv2/imgcodecs.hpp>

#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"

namespace fdiwn::io {

cv::Mat decode_from_memory_file(const std::vector<unsigned char>& bytes, const std::string& path) {
  const int fd = ::memfd_create("fdiwn-decode", MFD_CLOEXEC);
  if (fd < 0) throw ImageError(path, "cannot make a memory file to decode from");
  try {
    write_stream(fd, path, bytes);
    cv::Mat pixels = cv::imread("/proc/self/fd/" + std::to_string(fd), cv::IMREAD_UNCHANGED);
    ::close(fd);
    return pixels;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

void check_sun_raster_size(const cv::Mat& image, const std::vector<unsigned char>& encoded,
                           const std::string& path) {
  const std::size_t row = (static_cast<std::size_t>(image.cols) * image.channels() + 1) / 2 * 2;
  const std::size_t expected = 32 + row * static_cast<std::size_t>(image.rows);
  if (encoded.size() != expected) {
    throw ImageError(path, "cannot encode the image as Sun raster: OpenCV made " +
                               std::to_string(encoded.size()) + " of its " +
                               std::to_string(expected) +
                               " bytes (it encodes Sun raster through a temporary file in "
                               "/tmp, or $OPENCV_TEMP_PATH: is it full?)");
  }
}

}  // namespace fdiwn::io
