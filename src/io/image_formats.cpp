// The formats fdiwn reads and writes, by file name (folder scans and output
// names go by these), and the table of them for `fdiwn info`, with the
// library behind each and the version it reports at run time (OpenCV's
// build information names the codec libraries it was built with).
#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <webp/mux.h>
#include <opencv2/core/utility.hpp>

#include "fdiwn/errors.hpp"
#include "fdiwn/image_io.hpp"
#include "io/format_names.hpp"
#include "io/heif_codec.hpp"

namespace fdiwn {

namespace {

// Names a file of each format goes by (lower case, space-separated).
struct FormatNames {
  const char* name;
  const char* read;
  const char* write;  // "": not written
};

// AVIF is written only where libheif has an AV1 encoder (written()).
constexpr FormatNames kFormats[] = {
    {"PNG", "png", "png"},
    {"JPEG", "jpg jpeg jpe jfif", "jpg jpeg jpe"},
    {"WebP", "webp", "webp"},
    {"TIFF", "tif tiff", "tif tiff"},
    {"BMP", "bmp dib", "bmp dib"},
    {"Netpbm", "pbm pgm ppm pnm pam pxm", "ppm pgm pnm"},
    {"Sun raster", "sr ras", "sr ras"},
    {"JPEG 2000", "jp2 j2k j2c jpc jpf jpx", ""},
    {"HEIF (HEIC)", "heic heif hif", ""},
    {"AVIF", "avif", "avif"},
};

// Formats refused from their content (floating point).
constexpr const char* kRefusedNames = "hdr pic exr";

bool written(const FormatNames& f) {
  return std::string(f.name) != "AVIF" || io::can_encode_avif();
}

bool has_word(const char* words, const std::string& word) {
  std::istringstream in(words);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

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

namespace io {

std::string normalise_extension(std::string ext) {
  if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

bool one_of(const std::string& ext, std::initializer_list<const char*> list) {
  return std::any_of(list.begin(), list.end(), [&](const char* e) { return ext == e; });
}

bool reads_extension(const std::string& ext) {
  return has_word(kRefusedNames, ext) ||
         std::any_of(std::begin(kFormats), std::end(kFormats),
                     [&](const FormatNames& f) { return has_word(f.read, ext); });
}

bool writes_extension(const std::string& ext) {
  return std::any_of(std::begin(kFormats), std::end(kFormats),
                     [&](const FormatNames& f) { return has_word(f.write, ext) && written(f); });
}

}  // namespace io

void check_encodable(const std::string& extension, cv::Size size, const std::string& path) {
  const std::string ext = io::normalise_extension(extension);
  int limit = 0;
  const char* name = "";
  if (ext == "webp") {
    limit = 16383;  // the format's 14-bit sizes
    name = "WebP";
  } else if (io::one_of(ext, {"jpg", "jpeg", "jpe"})) {
    limit = 65500;  // libjpeg's JPEG_MAX_DIMENSION
    name = "JPEG";
  } else if (ext == "avif") {
    limit = 65536;  // AV1's 16-bit frame sizes
    name = "AVIF";
  }
  if (limit > 0 && (size.width > limit || size.height > limit)) {
    throw ImageError(
        path, "the result would be " + std::to_string(size.width) + "x" +
                  std::to_string(size.height) + ", larger than " + name + " can hold (at most " +
                  std::to_string(limit) +
                  " pixels a side); choose PNG or TIFF (a .png or .tif -o name, or -f png)");
  }
}

std::vector<ImageFormatSupport> image_formats() {
  const std::string heif = io::heif_library_text();
  // OpenCV's own codecs (BMP, Netpbm, Sun raster) name no library.
  const auto library = [&heif](const std::string& name) {
    if (name == "PNG") return opencv_codec("PNG", "libpng");
    if (name == "JPEG") return opencv_codec("JPEG", "libjpeg");
    if (name == "WebP") return webp_library();
    if (name == "TIFF") return opencv_codec("TIFF", "libtiff");
    if (name == "JPEG 2000") return opencv_codec("JPEG 2000", "OpenJPEG");
    if (name == "HEIF (HEIC)" || name == "AVIF") return heif;
    return std::string("OpenCV " CV_VERSION);
  };
  std::vector<ImageFormatSupport> formats;
  for (const FormatNames& f : kFormats) {
    formats.push_back({f.name, f.read, written(f) ? f.write : "", library(f.name)});
  }
  return formats;
}

}  // namespace fdiwn
