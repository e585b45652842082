// Image reading and atomic writing.
#include "fdiwn/image_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "fdiwn/errors.hpp"

namespace fdiwn {

namespace fs = std::filesystem;

namespace {

std::vector<uchar> read_file(const std::string& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) throw ImageError(path, "no such file");
  if (fs::is_directory(status)) throw ImageError(path, "is a directory, not an image");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImageError(path, std::string("cannot open: ") + std::strerror(errno));
  std::vector<uchar> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw ImageError(path, "read error");
  if (bytes.empty()) throw ImageError(path, "the file is empty");
  return bytes;
}

// Writes all of `data` to `fd`, retrying short writes and EINTR.
bool write_all(int fd, const uchar* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

cv::Mat read_image_bgr8(const std::string& path) {
  const std::vector<uchar> bytes = read_file(path);
  cv::Mat image;
  try {
    image = cv::imdecode(bytes, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw ImageError(path, "cannot decode the image: " + e.msg);
  }
  if (image.empty())
    throw ImageError(path, "not a readable image (unknown format or corrupt data)");
  return image;
}

void write_image_atomic(const std::string& path, const cv::Mat& image,
                        const std::vector<int>& encode_params) {
  const fs::path target(path);
  const std::string ext = target.extension().string();
  if (ext.empty()) throw ImageError(path, "no file extension to choose the image format from");
  std::vector<uchar> encoded;
  try {
    if (!cv::haveImageWriter(path))
      throw ImageError(path, "unsupported output format '" + ext + "'");
    if (!cv::imencode(ext, image, encoded, encode_params)) {
      throw ImageError(path, "cannot encode the image as '" + ext + "'");
    }
  } catch (const cv::Exception& e) {
    throw ImageError(path, "cannot encode the image as '" + ext + "': " + e.msg);
  }

  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmpl = (dir / ("." + target.filename().string() + ".fdiwn-XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) {
    throw ImageError(path, std::string("cannot create a file in '") + dir.string() +
                               "': " + std::strerror(errno));
  }
  // mkstemp makes the file 0600; give it the permissions a normal create would.
  const mode_t umask_now = ::umask(0);
  ::umask(umask_now);
  ::fchmod(fd, 0666 & ~umask_now);

  const bool ok = write_all(fd, encoded.data(), encoded.size()) && ::fsync(fd) == 0;
  const int write_errno = errno;
  if (::close(fd) != 0 || !ok) {
    ::unlink(tmpl.c_str());
    throw ImageError(path, std::string("cannot write: ") + std::strerror(ok ? errno : write_errno));
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    ::unlink(tmpl.c_str());
    throw ImageError(path, std::string("cannot move the finished file into place: ") +
                               std::strerror(rename_errno));
  }
}

}  // namespace fdiwn
