#include "io/heif_codec.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include <libheif/heif.h>
#include <opencv2/imgproc.hpp>

#include "fdiwn/errors.hpp"
#include "io/pixel_limit.hpp"

namespace fdiwn::io {

namespace {

// libheif loads its codecs once per process (reference counted: never
// undone here, so a later heif_init by another part of the program is
// harmless).
void init_heif() {
  static std::once_flag once;
  std::call_once(once, [] { heif_init(nullptr); });
}

struct ContextDeleter {
  void operator()(heif_context* c) const { heif_context_free(c); }
};
struct HandleDeleter {
  void operator()(heif_image_handle* h) const { heif_image_handle_release(h); }
};
struct ImageDeleter {
  void operator()(heif_image* i) const { heif_image_release(i); }
};
struct EncoderDeleter {
  void operator()(heif_encoder* e) const { heif_encoder_release(e); }
};
using Context = std::unique_ptr<heif_context, ContextDeleter>;
using Handle = std::unique_ptr<heif_image_handle, HandleDeleter>;
using Image = std::unique_ptr<heif_image, ImageDeleter>;
using Encoder = std::unique_ptr<heif_encoder, EncoderDeleter>;

// libheif's message as one line: some end with a newline, and a hostile
// file's bytes may appear in them.
std::string one_line(const char* message) {
  std::string text = message ? message : "libheif error";
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

void check(const heif_error& e, const std::string& path, const std::string& doing) {
  if (e.code != heif_error_Ok) throw ImageError(path, doing + ": " + one_line(e.message));
}

std::vector<unsigned char> metadata_block(const heif_image_handle* h, heif_item_id id) {
  std::vector<unsigned char> block(heif_image_handle_get_metadata_size(h, id));
  if (block.empty() || heif_image_handle_get_metadata(h, id, block.data()).code != heif_error_Ok) {
    return {};
  }
  return block;
}

// EXIF, ICC profile and XMP of the primary image. HEIF's EXIF block starts
// with the offset of its TIFF header.
ImageMetadata read_heif_metadata(const heif_image_handle* h, std::vector<std::string>& notes) {
  std::vector<unsigned char> exif, icc;
  std::string xmp;
  heif_item_id ids[16];
  const int exif_count = heif_image_handle_get_list_of_metadata_block_IDs(h, "Exif", ids, 16);
  if (exif_count > 0) {
    const std::vector<unsigned char> block = metadata_block(h, ids[0]);
    if (block.size() >= 4) {
      const uint32_t offset = (uint32_t{block[0]} << 24) | (uint32_t{block[1]} << 16) |
                              (uint32_t{block[2]} << 8) | block[3];
      if (offset <= block.size() - 4) {
        exif.assign(block.begin() + 4 + offset, block.end());
      } else {
        notes.push_back("its EXIF is damaged (header offset past the block) and is not kept");
      }
    }
  }
  const int mime_count = heif_image_handle_get_list_of_metadata_block_IDs(h, "mime", ids, 16);
  for (int i = 0; i < mime_count && i < 16; ++i) {
    const char* type = heif_image_handle_get_metadata_content_type(h, ids[i]);
    if (type != nullptr && std::strcmp(type, "application/rdf+xml") == 0) {
      const std::vector<unsigned char> block = metadata_block(h, ids[i]);
      xmp.assign(block.begin(), block.end());
      break;
    }
  }
  const size_t icc_size = heif_image_handle_get_raw_color_profile_size(h);
  if (icc_size > 0) {
    icc.resize(icc_size);
    if (heif_image_handle_get_raw_color_profile(h, icc.data()).code != heif_error_Ok) icc.clear();
  }
  return metadata_from_parts(std::move(exif), std::move(icc), std::move(xmp), &notes);
}

// libheif's interleaved RGB(A), 8 bits or little-endian 16-bit words of
// `bits` significant bits, into OpenCV's BGR(A), 8 or 16 bits (the samples
// stretched to the full 16-bit range: white stays white).
cv::Mat to_mat(const heif_image* image, int width, int height, bool alpha, int bits) {
  int stride = 0;
  const uint8_t* plane = heif_image_get_plane_readonly(image, heif_channel_interleaved, &stride);
  const int channels = alpha ? 4 : 3;
  if (bits <= 8) {
    cv::Mat rgb(height, width, CV_8UC(channels), const_cast<uint8_t*>(plane),
                static_cast<size_t>(stride));
    cv::Mat out;
    cv::cvtColor(rgb, out, alpha ? cv::COLOR_RGBA2BGRA : cv::COLOR_RGB2BGR);
    return out;
  }
  const uint32_t max = (1u << bits) - 1;
  cv::Mat out(height, width, CV_16UC(channels));
  for (int y = 0; y < height; ++y) {
    const uint8_t* row = plane + static_cast<size_t>(y) * static_cast<size_t>(stride);
    auto* dst = out.ptr<uint16_t>(y);
    for (int x = 0; x < width * channels; ++x) {
      const uint32_t v = std::min<uint32_t>(row[2 * x] | (row[2 * x + 1] << 8), max);
      dst[x] = static_cast<uint16_t>((v * 65535u + max / 2) / max);
    }
    for (int x = 0; x < width; ++x) std::swap(dst[x * channels], dst[x * channels + 2]);
  }
  return out;
}

heif_error write_to_vector(heif_context*, const void* data, size_t size, void* userdata) {
  auto* out = static_cast<std::vector<unsigned char>*>(userdata);
  const auto* bytes = static_cast<const unsigned char*>(data);
  out->insert(out->end(), bytes, bytes + size);
  return heif_error{heif_error_Ok, heif_suberror_Unspecified, "ok"};
}

// "dav1d, aom": short names, in libheif's order of preference.
std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
  return text.empty() ? "none" : text;
}

std::string decoder_names(heif_compression_format format) {
  const heif_decoder_descriptor* found[8];
  const int n = heif_get_decoder_descriptors(format, found, 8);
  std::vector<std::string> names;
  for (int i = 0; i < n && i < 8; ++i) {
    const char* id = heif_decoder_descriptor_get_id_name(found[i]);
    names.emplace_back(id ? id : heif_decoder_descriptor_get_name(found[i]));
  }
  return joined(names);
}

std::string encoder_names(heif_compression_format format) {
  const heif_encoder_descriptor* found[8];
  const int n = heif_get_encoder_descriptors(format, nullptr, found, 8);
  std::vector<std::string> names;
  for (int i = 0; i < n && i < 8; ++i) {
    names.emplace_back(heif_encoder_descriptor_get_id_name(found[i]));
  }
  return joined(names);
}

}  // namespace

cv::Mat decode_heif(const std::vector<unsigned char>& bytes, int64_t max_pixels,
                    const std::string& path, ImageMetadata* metadata,
                    std::vector<std::string>& notes) {
  init_heif();
  Context ctx(heif_context_alloc());
  if (!ctx) throw ImageError(path, "out of memory while reading the HEIF container");
  // Grid tiles decoded on the calling thread: the tool's threads are set by
  // -j, and a read already runs beside the network (libheif's default is 4
  // more threads per image).
  heif_context_set_max_decoding_threads(ctx.get(), 0);
  check(heif_context_read_from_memory_without_copy(ctx.get(), bytes.data(), bytes.size(), nullptr),
        path, "cannot read the HEIF container");
  heif_image_handle* raw_handle = nullptr;
  check(heif_context_get_primary_image_handle(ctx.get(), &raw_handle), path,
        "no primary image in the HEIF container");
  const Handle handle(raw_handle);
  const int width = heif_image_handle_get_width(handle.get());
  const int height = heif_image_handle_get_height(handle.get());
  if (width <= 0 || height <= 0) throw ImageError(path, "the HEIF image has no size");
  if (max_pixels > 0 && int64_t{width} * height > max_pixels) {
    throw ImageError(path, too_many_pixels("image", width, height, max_pixels));
  }
  const bool alpha = heif_image_handle_has_alpha_channel(handle.get()) != 0;
  const int bits = heif_image_handle_get_luma_bits_per_pixel(handle.get());
  const heif_chroma chroma =
      bits > 8 ? (alpha ? heif_chroma_interleaved_RRGGBBAA_LE : heif_chroma_interleaved_RRGGBB_LE)
               : (alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB);
  heif_image* raw_image = nullptr;
  try {
    check(heif_decode_image(handle.get(), &raw_image, heif_colorspace_RGB, chroma, nullptr), path,
          "cannot decode the image");
  } catch (const std::bad_alloc&) {
    throw ImageError(path, "out of memory while decoding the image");
  }
  const Image image(raw_image);
  const int got_bits = heif_image_get_bits_per_pixel_range(image.get(), heif_channel_interleaved);
  const int got_width = heif_image_get_width(image.get(), heif_channel_interleaved);
  const int got_height = heif_image_get_height(image.get(), heif_channel_interleaved);
  int stride = 0;
  if (got_width <= 0 || got_height <= 0 || got_bits <= 0 || got_bits > 16 ||
      heif_image_get_plane_readonly(image.get(), heif_channel_interleaved, &stride) == nullptr) {
    throw ImageError(path, "cannot decode the image: libheif gave no interleaved RGB plane");
  }
  cv::Mat pixels = to_mat(image.get(), got_width, got_height, alpha, got_bits);
  if (got_bits > 8 && got_bits < 16) {
    notes.push_back(std::to_string(got_bits) + "-bit samples read as 16-bit");
  }
  if (metadata != nullptr) *metadata = read_heif_metadata(handle.get(), notes);
  return pixels;
}

bool can_encode_avif() {
  init_heif();
  return heif_have_encoder_for_format(heif_compression_AV1) != 0;
}

std::vector<unsigned char> encode_avif(const cv::Mat& image, int quality,
                                       const ImageMetadata* metadata, const std::string& path) {
  init_heif();
  if (image.depth() != CV_8U && image.depth() != CV_16U) {
    throw ImageError(path, "cannot encode the image as avif: 8- and 16-bit images only");
  }
  cv::Mat rgb;
  const bool alpha = image.channels() == 4;
  if (image.channels() == 1) cv::cvtColor(image, rgb, cv::COLOR_GRAY2RGB);
  if (image.channels() == 3) cv::cvtColor(image, rgb, cv::COLOR_BGR2RGB);
  if (alpha) cv::cvtColor(image, rgb, cv::COLOR_BGRA2RGBA);
  // 8 bits only: Debian 12's libaom aborts the process on 10-bit input
  // (fit_to_format reduces 16-bit images first, with a note).
  if (rgb.depth() == CV_16U) rgb.convertTo(rgb, CV_8U, 1.0 / 257.0);
  const heif_chroma chroma = alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB;
  heif_image* raw_image = nullptr;
  check(heif_image_create(rgb.cols, rgb.rows, heif_colorspace_RGB, chroma, &raw_image), path,
        "cannot encode the image as avif");
  const Image heif_image_ptr(raw_image);
  check(heif_image_add_plane(raw_image, heif_channel_interleaved, rgb.cols, rgb.rows, 8), path,
        "cannot encode the image as avif");
  int stride = 0;
  uint8_t* plane = heif_image_get_plane(raw_image, heif_channel_interleaved, &stride);
  const size_t row_samples = static_cast<size_t>(rgb.cols) * static_cast<size_t>(rgb.channels());
  for (int y = 0; y < rgb.rows; ++y) {
    std::memcpy(plane + static_cast<size_t>(y) * static_cast<size_t>(stride), rgb.ptr<uint8_t>(y),
                row_samples);
  }
  if (metadata != nullptr && !metadata->icc.empty()) {
    check(heif_image_set_raw_color_profile(raw_image, "prof", metadata->icc.data(),
                                           metadata->icc.size()),
          path, "cannot write the ICC profile");
  }
  Context ctx(heif_context_alloc());
  heif_encoder* raw_encoder = nullptr;
  check(heif_context_get_encoder_for_format(ctx.get(), heif_compression_AV1, &raw_encoder), path,
        "cannot encode the image as avif (no AV1 encoder in libheif)");
  const Encoder encoder(raw_encoder);
  // Lossless needs full chroma and RGB stored as it is (the identity
  // matrix); both colour boxes are written then, since a decoder without the
  // nclx one would assume YCbCr.
  std::unique_ptr<heif_encoding_options, decltype(&heif_encoding_options_free)> options(
      heif_encoding_options_alloc(), heif_encoding_options_free);
  std::unique_ptr<heif_color_profile_nclx, decltype(&heif_nclx_color_profile_free)> nclx(
      heif_nclx_color_profile_alloc(), heif_nclx_color_profile_free);
  if (quality >= 100) {
    check(heif_encoder_set_lossless(raw_encoder, 1), path, "cannot encode the image as avif");
    check(heif_encoder_set_parameter_string(raw_encoder, "chroma", "444"), path,
          "cannot encode the image as avif");
    nclx->matrix_coefficients = heif_matrix_coefficients_RGB_GBR;
    nclx->full_range_flag = 1;
    options->output_nclx_profile = nclx.get();
    options->save_two_colr_boxes_when_ICC_and_nclx_available = 1;
  } else {
    check(heif_encoder_set_lossy_quality(raw_encoder, quality), path,
          "cannot encode the image as avif");
  }
  heif_image_handle* raw_handle = nullptr;
  check(heif_context_encode_image(ctx.get(), raw_image, raw_encoder, options.get(), &raw_handle),
        path, "cannot encode the image as avif");
  const Handle handle(raw_handle);
  if (metadata != nullptr && !metadata->exif.empty()) {
    const std::vector<unsigned char> exif =
        exif_for_output(*metadata, cv::Size(image.cols, image.rows));
    check(heif_context_add_exif_metadata(ctx.get(), raw_handle, exif.data(),
                                         static_cast<int>(exif.size())),
          path, "cannot write the EXIF");
  }
  if (metadata != nullptr && !metadata->xmp.empty()) {
    const std::string xmp = xmp_for_output(*metadata, cv::Size(image.cols, image.rows));
    check(heif_context_add_XMP_metadata(ctx.get(), raw_handle, xmp.data(),
                                        static_cast<int>(xmp.size())),
          path, "cannot write the XMP");
  }
  std::vector<unsigned char> out;
  heif_writer writer{1, write_to_vector};
  check(heif_context_write(ctx.get(), &writer, &out), path, "cannot write the avif file");
  return out;
}

std::string heif_library_text() {
  init_heif();
  return std::string("libheif ") + heif_get_version() +
         " (HEVC: " + decoder_names(heif_compression_HEVC) +
         "; AV1: " + decoder_names(heif_compression_AV1) +
         "; AV1 encoders: " + encoder_names(heif_compression_AV1) + ")";
}

}  // namespace fdiwn::io
