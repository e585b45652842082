// Image reading (header checked before decoding) and atomic writing.
#include "fdiwn/image_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "fdiwn/errors.hpp"

namespace fdiwn {

namespace fs = std::filesystem;

namespace {

// "JPG", ".jpg" -> "jpg".
std::string normalise_extension(std::string ext) {
  if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

bool one_of(const std::string& ext, std::initializer_list<const char*> list) {
  return std::any_of(list.begin(), list.end(), [&](const char* e) { return ext == e; });
}

std::vector<unsigned char> read_file(const std::string& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) throw ImageError(path, "no such file");
  if (fs::is_directory(status)) throw ImageError(path, "is a directory, not an image");
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw ImageError(path, std::string("cannot open: ") + std::strerror(errno));
  std::vector<unsigned char> bytes;
  unsigned char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) bytes.insert(bytes.end(), buf, buf + n);
  if (std::ferror(f.get()))
    throw ImageError(path, std::string("read error: ") + std::strerror(errno));
  if (bytes.empty()) throw ImageError(path, "the file is empty");
  return bytes;
}

std::string megapixels(int64_t pixels) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MP", static_cast<double>(pixels) / 1e6);
  return buf;
}

// Test hook: with FDIWN_TEST_WRITE_LIMIT=N in the environment, writes fail
// with ENOSPC once this process has written N bytes of images: a full disk,
// for tests that cannot mount a small file system.
ssize_t write_some(int fd, const unsigned char* data, size_t size) {
  static const long long limit = [] {
    const char* v = std::getenv("FDIWN_TEST_WRITE_LIMIT");
    return v ? std::atoll(v) : -1LL;
  }();
  static std::atomic<long long> written{0};
  if (limit >= 0) {
    if (written.fetch_add(static_cast<long long>(size)) + static_cast<long long>(size) > limit) {
      errno = ENOSPC;
      return -1;
    }
  }
  return ::write(fd, data, size);
}

// Writes all of `data` to `fd`, retrying short writes and EINTR.
bool write_all(int fd, const unsigned char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write_some(fd, data, size);
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

bool is_writable_extension(const std::string& extension) {
  return one_of(normalise_extension(extension), {"png", "jpg", "jpeg", "jpe", "webp", "tif", "tiff",
                                                 "bmp", "dib", "ppm", "pgm", "pnm", "sr", "ras"});
}

bool is_readable_extension(const std::string& extension) {
  return one_of(normalise_extension(extension),
                {"png", "jpg", "jpeg", "jpe", "jp2", "webp", "tif", "tiff", "bmp", "dib",
                 "ppm", "pgm", "pbm",  "pnm", "pxm", "sr",   "ras", "hdr",  "pic", "exr"});
}

LoadedImage read_image(const std::string& path, const ReadOptions& options) {
  return decode_image(read_file(path), path, options);
}

LoadedImage decode_image(const std::vector<unsigned char>& bytes, const std::string& path,
                         const ReadOptions& options) {
  if (bytes.empty()) throw ImageError(path, "the file is empty");
  LoadedImage image;
  image.probe = probe_image(bytes, path);
  const ImageProbe& probe = image.probe;
  const int64_t pixels = static_cast<int64_t>(probe.width) * probe.height;
  if (options.max_pixels > 0 && pixels > options.max_pixels) {
    throw ImageError(path, "the image is " + std::to_string(probe.width) + "x" +
                               std::to_string(probe.height) + " (" + megapixels(pixels) +
                               "), more than the " + megapixels(options.max_pixels) + " allowed");
  }

  if (options.on_header) options.on_header(probe);

  cv::Mat pixels_read;
  try {
    // UNCHANGED keeps alpha and 16 bits (and ignores EXIF, applied below).
    pixels_read = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw ImageError(path, "cannot decode the image: " + e.err);
  }
  if (pixels_read.empty()) {
    throw ImageError(path, std::string("cannot decode the ") + format_name(probe.format) +
                               " data (corrupt or unsupported variant)");
  }
  if (pixels_read.depth() != CV_8U && pixels_read.depth() != CV_16U) {
    throw ImageError(path,
                     "floating-point or 32-bit images are not supported (8 and 16 bits only)");
  }
  const int channels = pixels_read.channels();
  if (channels != 1 && channels != 3 && channels != 4) {
    throw ImageError(path,
                     "images with " + std::to_string(channels) + " channels are not supported");
  }
  if (probe.cmyk) image.notes.push_back("CMYK converted to RGB (no colour management)");
  if (const int orientation = orientation_to_apply(probe); orientation != 1) {
    pixels_read = apply_exif_orientation(pixels_read, orientation);
    image.notes.push_back("EXIF orientation " + std::to_string(orientation) + " applied");
  }
  image.pixels = pixels_read;
  return image;
}

cv::Mat read_image_bgr8(const std::string& path) {
  cv::Mat m = read_image(path).pixels;
  if (m.depth() == CV_16U) m.convertTo(m, CV_8U, 1.0 / 257.0);
  if (m.channels() == 1) cv::cvtColor(m, m, cv::COLOR_GRAY2BGR);
  if (m.channels() == 4) cv::cvtColor(m, m, cv::COLOR_BGRA2BGR);
  return m;
}

cv::Mat fit_to_format(const cv::Mat& image, const std::string& extension,
                      std::vector<std::string>* notes) {
  const std::string ext = normalise_extension(extension);
  const auto note = [&](const std::string& n) {
    if (notes) notes->push_back(n);
  };
  std::string name = ext;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  cv::Mat out = image;
  const bool eight_bit_only =
      one_of(ext, {"jpg", "jpeg", "jpe", "webp", "bmp", "dib", "sr", "ras"});
  if (out.depth() == CV_16U && eight_bit_only) {
    out.convertTo(out, CV_8U, 1.0 / 257.0);
    note("16-bit reduced to 8-bit (" + name + " stores 8 bits)");
  }
  const bool keeps_alpha = one_of(ext, {"png", "tif", "tiff", "webp"});
  if (out.channels() == 4 && !keeps_alpha) {
    cv::cvtColor(out, out, cv::COLOR_BGRA2BGR);
    note("alpha channel dropped (" + name + " has no alpha)");
  }
  if (ext == "ppm" && out.channels() == 1) cv::cvtColor(out, out, cv::COLOR_GRAY2BGR);
  if (ext == "pgm" && out.channels() != 1) {
    cv::cvtColor(out, out, out.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
    note("colour reduced to gray (PGM is gray)");
  }
  return out;
}

std::vector<unsigned char> encode_image(const cv::Mat& image, const std::string& extension,
                                        const WriteOptions& options, const std::string& path) {
  const std::string ext = normalise_extension(extension);
  if (!is_writable_extension(ext)) {
    throw ImageError(path, "cannot write images of format '" + ext + "'");
  }
  std::vector<int> params;
  if (one_of(ext, {"jpg", "jpeg", "jpe"})) params = {cv::IMWRITE_JPEG_QUALITY, options.quality};
  // OpenCV writes lossless WebP for a quality above 100.
  if (ext == "webp")
    params = {cv::IMWRITE_WEBP_QUALITY, options.quality >= 100 ? 101 : options.quality};
  if (ext == "png") params = {cv::IMWRITE_PNG_COMPRESSION, options.png_compression};
  std::vector<unsigned char> encoded;
  try {
    if (!cv::imencode("." + ext, image, encoded, params)) {
      throw ImageError(path, "cannot encode the image as " + ext);
    }
  } catch (const cv::Exception& e) {
    throw ImageError(path, "cannot encode the image as " + ext + ": " + e.err);
  }
  return encoded;
}

void write_file_atomic(const std::string& path, const std::vector<unsigned char>& bytes,
                       const TempFileHooks* hooks) {
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const mode_t mask = ::umask(0);
  ::umask(mask);

  // The data goes first into an unnamed file (O_TMPFILE): if the process is
  // killed while writing, even by SIGKILL, the kernel frees it and nothing is
  // left in the folder. File systems without O_TMPFILE get a named temporary
  // file from the start.
  bool unnamed = true;
  std::string temp = (dir / ("." + target.filename().string() + ".fdiwn-XXXXXX")).string();
  int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666 & ~mask);
  if (fd < 0) {
    unnamed = false;
    fd = ::mkstemp(temp.data());
    if (fd < 0) {
      throw ImageError(path,
                       "cannot create a file in '" + dir.string() + "': " + std::strerror(errno));
    }
    // mkstemp makes the file 0600; give it the permissions a plain create would.
    ::fchmod(fd, 0666 & ~mask);
    if (hooks && hooks->created) hooks->created(temp);
  }
  bool named = !unnamed;
  const auto give_up = [&](const std::string& what, int err) {
    if (fd >= 0) ::close(fd);
    if (named) {
      ::unlink(temp.c_str());
      if (hooks && hooks->finished) hooks->finished(temp);
    }
    throw ImageError(path, what + ": " + std::strerror(err));
  };

  if (!write_all(fd, bytes.data(), bytes.size())) give_up("cannot write", errno);
  if (::fsync(fd) != 0) give_up("cannot write", errno);
  if (unnamed) {
    // Give the complete file a temporary name (linkat cannot replace an
    // existing file), then rename it over the target.
    const std::string proc_fd = "/proc/self/fd/" + std::to_string(fd);
    for (int attempt = 0; !named; ++attempt) {
      temp = (dir / ("." + target.filename().string() + ".fdiwn-" + std::to_string(::getpid()) +
                     "-" + std::to_string(attempt)))
                 .string();
      if (hooks && hooks->created) hooks->created(temp);
      if (::linkat(AT_FDCWD, proc_fd.c_str(), AT_FDCWD, temp.c_str(), AT_SYMLINK_FOLLOW) == 0) {
        named = true;
        break;
      }
      const int err = errno;
      if (hooks && hooks->finished) hooks->finished(temp);
      if (err != EEXIST || attempt > 100) give_up("cannot name the new file", err);
    }
  }
  const int close_result = ::close(fd);
  fd = -1;
  if (close_result != 0) give_up("cannot write", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0)
    give_up("cannot move the finished file into place", errno);
  if (hooks && hooks->finished) hooks->finished(temp);
}

void write_image_atomic(const std::string& path, const cv::Mat& image,
                        const WriteOptions& options) {
  const std::string ext = fs::path(path).extension().string();
  if (ext.empty()) throw ImageError(path, "no file extension to choose the image format from");
  write_file_atomic(path, encode_image(fit_to_format(image, ext), ext, options, path));
}

}  // namespace fdiwn
