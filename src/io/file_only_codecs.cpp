#include "io/file_only_codecs.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <opencv2/imgcodecs.hpp>

#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"

namespace fdiwn::io {

bool is_sun_raster(const std::vector<unsigned char>& bytes) {
  return bytes.size() >= 4 && bytes[0] == 0x59 && bytes[1] == 0xA6 && bytes[2] == 0x6A &&
         bytes[3] == 0x95;
}

cv::Mat decode_from_memory_file(const std::vector<unsigned char>& bytes, const std::string& path) {
  const auto fail = [&path](const std::string& what) {
    throw ImageError(
        path, what + ": " + std::strerror(errno) + " (OpenCV reads this format only from a file)");
  };
  const int fd = ::memfd_create("fdiwn-decode", MFD_CLOEXEC);
  if (fd < 0) fail("cannot make a memory file to decode from");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  try {
    write_stream(fd, path, bytes);
  } catch (const FileError& e) {
    throw ImageError(path, "cannot copy the image to a memory file: " + e.reason());
  }
  const std::string name = "/proc/self/fd/" + std::to_string(fd);
  if (::access(name.c_str(), R_OK) != 0) fail("cannot open the memory file as " + name);
  return cv::imread(name, cv::IMREAD_UNCHANGED);
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
