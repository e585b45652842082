// Image reading (header checked before the file is read and decoded) and
// writing.
#include "fdiwn/image_io.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "fdiwn/errors.hpp"
#include "io/file_only_codecs.hpp"
#include "io/format_names.hpp"
#include "io/heif_codec.hpp"
#include "io/jpeg_check.hpp"
#include "io/pixel_limit.hpp"

namespace fdiwn {

namespace fs = std::filesystem;
using io::normalise_extension;
using io::one_of;

namespace {

constexpr const char* kDeepSamples =
    "floating-point or 32-bit images are not supported (8 and 16 bits only)";

std::string size_text(uint64_t bytes) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

// Bytes per sample of the decoded image (OpenCV decodes to 8 or 16 bits).
uint64_t sample_bytes(const ImageProbe& p) {
  return p.bit_depth > 8 ? 2 : 1;
}

// The decoded pixels (gray is counted as colour: OpenCV may expand it).
uint64_t pixel_bytes(const ImageProbe& p) {
  return static_cast<uint64_t>(p.width) * static_cast<uint64_t>(p.height) *
         static_cast<uint64_t>(std::max(p.channels, 3)) * sample_bytes(p);
}

// The decoder's buffer for one TIFF block: OpenCV 4.6 reads 8-bit images as
// RGBA through libtiff, others with their own channel count.
uint64_t block_bytes(const ImageProbe& p) {
  const uint64_t channels = p.bit_depth > 8 ? static_cast<uint64_t>(std::max(p.channels, 1)) : 4;
  return p.block_width * p.block_height * channels * sample_bytes(p);
}

// The checks made from the header, before the rest of the file is read or
// any pixel is decoded; returns the memory the read and decode will hold.
std::size_t admit(const ImageProbe& probe, uint64_t file_bytes, const ReadOptions& options,
                  const std::string& path) {
  // PFM and 32-bit TIFF: refused before anything is read or decoded.
  if (probe.bit_depth > 16) throw ImageError(path, kDeepSamples);
  const int64_t pixels = static_cast<int64_t>(probe.width) * probe.height;
  if (options.max_pixels > 0 && pixels > options.max_pixels) {
    throw ImageError(path, too_many_pixels("image", probe.width, probe.height, options.max_pixels));
  }
  // A TIFF tile or strip is decoded into a buffer of its own size, which a
  // damaged or hostile header can make far larger than the image (a 16x16
  // image in one 16384x16384 tile). Real files keep blocks near the image's
  // size or small; 16 Mi pixels leaves room for large tiles on small images.
  if (probe.block_width > 0 && probe.block_height > 0) {
    const uint64_t block = probe.block_width * probe.block_height;
    const uint64_t allowed = std::max<uint64_t>(2 * static_cast<uint64_t>(pixels), 16u << 20);
    const bool over_limit =
        options.max_pixels > 0 && block > static_cast<uint64_t>(options.max_pixels);
    if (block > allowed || over_limit) {
      throw ImageError(path, "its TIFF tiles or strips are " + std::to_string(probe.block_width) +
                                 "x" + std::to_string(probe.block_height) + " (" +
                                 pixel_count(static_cast<int64_t>(block)) + ", " +
                                 size_text(block_bytes(probe)) + " to decode) for a " +
                                 std::to_string(probe.width) + "x" + std::to_string(probe.height) +
                                 " image; refusing a damaged or hostile file");
    }
  }
  const uint64_t decoded = pixel_bytes(probe) * (orientation_to_apply(probe) != 1 ? 2 : 1);
  const uint64_t needed = file_bytes + decoded + (probe.block_width ? block_bytes(probe) : 0);
  const std::size_t needed_bytes =
      static_cast<std::size_t>(std::min<uint64_t>(needed, std::numeric_limits<std::size_t>::max()));
  if (options.on_header) options.on_header(probe, needed_bytes);
  return needed_bytes;
}

// OpenCV 4.6 returns PNM samples as stored, except plain (text) ones with a
// maxval below 256, which it scales to 0..255 itself. Scale the others from
// 0..maxval to the full range of their depth, so that white stays white.
void scale_pnm_samples(cv::Mat& pixels, const ImageProbe& probe, std::vector<std::string>& notes) {
  if (probe.format != ImageFormat::Pnm || probe.max_value <= 0) return;
  const int full = pixels.depth() == CV_16U ? 65535 : 255;
  const bool scaled_by_decoder = probe.text_samples && probe.max_value <= 255;
  if (scaled_by_decoder || probe.max_value == full) return;
  pixels.convertTo(pixels, pixels.depth(), static_cast<double>(full) / probe.max_value);
  notes.push_back("samples scaled from 0.." + std::to_string(probe.max_value) +
                  " (the maxval) to 0.." + std::to_string(full));
}

// The formats whose metadata is read (and kept): the others (BMP, Netpbm,
// Sun raster, JPEG 2000) hold none that Exiv2 reads, and asking would only
// give a note about an unknown image type.
bool may_hold_metadata(const ImageProbe& probe) {
  // (HEIF and AVIF: their decoder reads it.)
  return probe.format == ImageFormat::Png || probe.format == ImageFormat::Jpeg ||
         probe.format == ImageFormat::WebP || probe.format == ImageFormat::Tiff;
}

LoadedImage decode_admitted(const std::vector<unsigned char>& bytes, const ImageProbe& probe,
                            const ReadOptions& options, const std::string& path) {
  LoadedImage image;
  image.probe = probe;
  const bool heif = probe.format == ImageFormat::Heif || probe.format == ImageFormat::Avif;
  cv::Mat pixels_read;
  try {
    // UNCHANGED keeps alpha and 16 bits (and ignores EXIF, applied below).
    if (heif) {
      pixels_read = io::decode_heif(bytes, options.max_pixels, path,
                                    options.metadata ? &image.metadata : nullptr, image.notes);
    } else if (io::is_sun_raster(bytes)) {
      pixels_read = io::decode_from_memory_file(bytes, path);
    } else {
      pixels_read = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
    }
  } catch (const cv::Exception& e) {
    throw ImageError(path, "cannot decode the image: " + e.err);
  } catch (const std::bad_alloc&) {
    throw ImageError(path, "out of memory while decoding the image");
  }
  if (pixels_read.empty()) {
    // Found by hand: a cut JPEG 2000 file was "the other data".
    const std::string kind = probe.format != ImageFormat::Other ? format_name(probe.format)
                             : io::is_sun_raster(bytes)         ? "Sun raster"
                                                                : "JPEG 2000";
    throw ImageError(
        path, "cannot decode the " + kind + " data (corrupt, cut short or an unsupported variant)");
  }
  // What the decoder made, not what the header said (found by fuzz_upscale:
  // a HEIF whose header passed --max-pixels 4096 decoded to 3072x237).
  if (options.max_pixels > 0 && int64_t{pixels_read.cols} * pixels_read.rows > options.max_pixels) {
    throw ImageError(path, too_many_pixels("decoded image", pixels_read.cols, pixels_read.rows,
                                           options.max_pixels));
  }
  if (pixels_read.depth() != CV_8U && pixels_read.depth() != CV_16U) {
    throw ImageError(path, kDeepSamples);
  }
  const int channels = pixels_read.channels();
  if (channels != 1 && channels != 3 && channels != 4) {
    throw ImageError(path,
                     "images with " + std::to_string(channels) + " channels are not supported");
  }
  // Found by hand: OpenCV reads a CMYK TIFF as colour with an opaque alpha
  // the file does not have, and a gray+alpha TIFF as gray without its alpha.
  const bool tiff = probe.format == ImageFormat::Tiff;
  if (tiff && channels == 4 && probe.cmyk && !probe.transparency) {
    cv::cvtColor(pixels_read, pixels_read, cv::COLOR_BGRA2BGR);
  } else if (tiff && channels != 4 && probe.transparency) {
    image.notes.push_back("its alpha channel is not kept: the TIFF decoder reads it as " +
                          std::string(channels == 1 ? "gray" : "colour") + " only");
  }
  if (probe.format == ImageFormat::Jpeg) {
    const io::JpegWarning warning = io::jpeg_data_warning(bytes);
    if (warning.data_missing) {
      throw ImageError(
          path, "damaged JPEG: its image data ends early (libjpeg: " + warning.message + ")");
    }
    if (!warning.message.empty()) image.notes.push_back("libjpeg: " + warning.message);
  }
  if (probe.more_images) {
    // Found by hand: a multi-page TIFF gave its first page without a word.
    image.notes.push_back(tiff ? "only its first page is read: the TIFF holds more than one"
                               : "only its first frame is read: the image is animated");
  }
  scale_pnm_samples(pixels_read, probe, image.notes);
  if (probe.cmyk) image.notes.push_back("CMYK converted to RGB (no colour management)");
  if (const int orientation = orientation_to_apply(probe); orientation != 1) {
    pixels_read = apply_exif_orientation(pixels_read, orientation);
    image.notes.push_back("EXIF orientation " + std::to_string(orientation) + " applied");
  }
  image.pixels = pixels_read;
  // After the checks and the decoder: no metadata parsing of a file that
  // failed them.
  if (options.metadata && may_hold_metadata(probe)) {
    image.metadata = read_metadata(bytes, &image.notes);
  }
  drop_unfitting_icc_profile(image.metadata, image.pixels.channels(), &image.notes);
  return image;
}

// How much of a file is read first, for the header: enough for every
// format's header in practice (a JPEG's frame header may follow up to a few
// hundred KiB of metadata; if it lies further, the whole file is read first,
// within the file size limit).
constexpr std::size_t kHeadBytes = 256 * 1024;

}  // namespace

bool is_writable_extension(const std::string& extension) {
  return io::writes_extension(normalise_extension(extension));
}

bool is_readable_extension(const std::string& extension) {
  return io::reads_extension(normalise_extension(extension));
}

LoadedImage read_image(const std::string& path, const ReadOptions& options) {
  try {
    const InputFile file(path);
    if (file.size() == 0) throw ImageError(path, "the file is empty");
    std::vector<unsigned char> head = file.read_at(0, kHeadBytes);
    const ReadAt read_at = [&file](uint64_t offset, size_t n) { return file.read_at(offset, n); };
    const std::optional<ImageProbe> header =
        probe_header(head.data(), head.size(), file.size(), read_at, path);
    if (header) admit(*header, file.size(), options, path);
    const std::vector<unsigned char> bytes = file.read_all(options.file, std::move(head));
    if (bytes.empty()) throw ImageError(path, "the file is empty");
    const ImageProbe probe = probe_image(bytes, path);
    if (!header) admit(probe, bytes.size(), options, path);
    return decode_admitted(bytes, probe, options, path);
  } catch (const FileError& e) {
    throw ImageError(path, e.reason());
  }
}

LoadedImage read_image_stream(int fd, const std::string& name, const ReadOptions& options) {
  try {
    // The header first, from the first bytes, as for a file: what it
    // claims is checked before the rest of the stream is read.
    std::vector<unsigned char> head = read_stream(fd, name, options.file, {}, kHeadBytes);
    if (head.empty()) throw ImageError(name, "the stream is empty (no image came)");
    const bool whole = head.size() < kHeadBytes;
    const uint64_t known_size = whole ? head.size() : std::numeric_limits<uint64_t>::max();
    // A stream cannot be read out of order: a TIFF directory beyond the
    // first bytes is read with the rest.
    const ReadAt in_head = [&head](uint64_t offset, size_t n) {
      if (offset >= head.size()) return std::vector<unsigned char>();
      const auto from = head.begin() + static_cast<std::ptrdiff_t>(offset);
      return std::vector<unsigned char>(
          from, from + static_cast<std::ptrdiff_t>(std::min<uint64_t>(n, head.size() - offset)));
    };
    std::optional<ImageProbe> header;
    try {
      header = probe_header(head.data(), head.size(), known_size, in_head, name);
    } catch (const ImageError&) {
      if (whole) throw;
    }
    if (header) admit(*header, head.size(), options, name);
    const std::vector<unsigned char> bytes =
        whole ? std::move(head) : read_stream(fd, name, options.file, std::move(head));
    const ImageProbe probe = probe_image(bytes, name);
    if (!header) admit(probe, bytes.size(), options, name);
    return decode_admitted(bytes, probe, options, name);
  } catch (const FileError& e) {
    throw ImageError(name, e.reason());
  }
}

LoadedImage decode_image(const std::vector<unsigned char>& bytes, const std::string& path,
                         const ReadOptions& options) {
  if (bytes.empty()) throw ImageError(path, "the file is empty");
  const ImageProbe probe = probe_image(bytes, path);
  admit(probe, bytes.size(), options, path);
  return decode_admitted(bytes, probe, options, path);
}

cv::Mat read_image_bgr8(const std::string& path, const ReadOptions& options) {
  cv::Mat m = read_image(path, options).pixels;
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
  // AVIF: Debian 12's libaom aborts the process on 10-bit input in
  // libheif's default settings (tried: 4:2:0, 4:4:4, lossless), so fdiwn
  // writes 8-bit AVIF only.
  const bool eight_bit_only =
      one_of(ext, {"jpg", "jpeg", "jpe", "webp", "bmp", "dib", "sr", "ras", "avif"});
  if (out.depth() == CV_16U && eight_bit_only) {
    out.convertTo(out, CV_8U, 1.0 / 257.0);
    note("16-bit reduced to 8-bit (" + name + " stores 8 bits)");
  }
  const bool keeps_alpha = one_of(ext, {"png", "tif", "tiff", "webp", "avif"});
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
                                        const WriteOptions& options, const std::string& path,
                                        const ImageMetadata* metadata,
                                        std::vector<std::string>* notes) {
  const std::string ext = normalise_extension(extension);
  if (!is_writable_extension(ext)) {
    throw ImageError(path, "cannot write images of format '" + ext + "'");
  }
  // WebP and AVIF store gray pixels as colour: a GRAY profile no longer fits
  // them (found in review: it was kept).
  std::optional<ImageMetadata> refitted;
  if (metadata != nullptr && image.channels() == 1 && one_of(ext, {"webp", "avif"})) {
    refitted = *metadata;
    drop_unfitting_icc_profile(*refitted, 3, notes);
    metadata = &*refitted;
  }
  if (ext == "avif") {
    // As embed_metadata says for WebP (found by hand: AVIF lost it in silence).
    if (metadata != nullptr && !metadata->iptc.empty() && notes != nullptr) {
      notes->push_back("its IPTC not kept: AVIF files cannot hold it");
    }
    return io::encode_avif(image, options.quality, metadata, path);
  }
  std::vector<int> params;
  if (one_of(ext, {"jpg", "jpeg", "jpe"})) params = {cv::IMWRITE_JPEG_QUALITY, options.quality};
  // OpenCV writes lossless WebP for a quality above 100.
  if (ext == "webp")
    params = {cv::IMWRITE_WEBP_QUALITY, options.quality >= 100 ? 101 : options.quality};
  if (ext == "png") params = {cv::IMWRITE_PNG_COMPRESSION, options.png_compression};
  const bool sun_raster = one_of(ext, {"ras", "sr"});
  std::vector<unsigned char> encoded;
  try {
    if (!cv::imencode("." + ext, image, encoded, params)) {
      throw ImageError(path, "cannot encode the image as " + ext);
    }
  } catch (const cv::Exception& e) {
    // Sun raster: a temporary file OpenCV could not make ("code").
    const std::string where =
        sun_raster ? " (OpenCV encodes it through /tmp, or $OPENCV_TEMP_PATH)" : "";
    throw ImageError(path, "cannot encode the image as " + ext + ": " + e.err + where);
  }
  if (sun_raster) io::check_sun_raster_size(image, encoded, path);
  if (metadata != nullptr) embed_metadata(encoded, ext, *metadata, image.size(), notes);
  return encoded;
}

void write_image(const std::string& path, const cv::Mat& image, const WriteOptions& options,
                 const TempFileHooks* hooks, std::vector<std::string>* notes) {
  const std::string ext = fs::path(path).extension().string();
  if (ext.empty()) throw ImageError(path, "no file extension to choose the image format from");
  const std::vector<unsigned char> bytes =
      encode_image(fit_to_format(image, ext, notes), ext, options, path);
  try {
    write_file(path, bytes, hooks);
  } catch (const FileError& e) {
    throw ImageError(path, e.reason());
  }
}

}  // namespace fdiwn
