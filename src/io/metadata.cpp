// Metadata through Exiv2 0.27, on bytes in memory (MemIo): nothing touches
// a file here, so the atomic writer stays the only one that writes.
#include "fdiwn/metadata.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <stdexcept>

#include <webp/mux.h>
#include <exiv2/exiv2.hpp>

#include "io/icc_profile.hpp"

namespace fdiwn {

namespace {

// Exiv2's XMP toolkit is not thread-safe: it is set up once, with a lock
// that serialises its use (the batch reads one image's metadata while it
// writes another's).
void lock_xmp(void* mutex, bool lock) {
  auto* m = static_cast<std::mutex*>(mutex);
  if (lock) {
    m->lock();
  } else {
    m->unlock();
  }
}

// Exiv2 reports what it skips in damaged metadata (an IFD running past its
// block, a lying count) through its log, not by throwing. While a call here
// runs, its thread's messages are collected into that call's notes; other
// messages go where Exiv2 always sends them (stderr).
thread_local std::vector<std::string>* exiv2_messages = nullptr;

void route_exiv2_message(int level, const char* message) {
  if (exiv2_messages == nullptr) {
    Exiv2::LogMsg::defaultHandler(level, message);
    return;
  }
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (!text.empty()) exiv2_messages->push_back(text);
}

void init_exiv2() {
  static std::mutex xmp_mutex;
  static std::once_flag once;
  std::call_once(once, [] {
    Exiv2::XmpParser::initialize(lock_xmp, &xmp_mutex);
    Exiv2::LogMsg::setHandler(route_exiv2_message);
  });
}

// Collects the thread's Exiv2 messages for its lifetime and gives them, as
// one note, to `notes`.
class Exiv2Messages {
 public:
  explicit Exiv2Messages(std::vector<std::string>* notes) : notes_(notes) {
    init_exiv2();
    previous_ = exiv2_messages;
    exiv2_messages = &messages_;
  }
  ~Exiv2Messages() {
    exiv2_messages = previous_;
    if (notes_ == nullptr || messages_.empty()) return;
    std::string text = "its metadata is damaged; what could not be read is left out (Exiv2: ";
    for (size_t i = 0; i < messages_.size() && i < 3; ++i) text += (i ? "; " : "") + messages_[i];
    if (messages_.size() > 3) text += "; ...";
    notes_->push_back(text + ")");
  }
  Exiv2Messages(const Exiv2Messages&) = delete;
  Exiv2Messages& operator=(const Exiv2Messages&) = delete;

 private:
  std::vector<std::string>* notes_;
  std::vector<std::string>* previous_;
  std::vector<std::string> messages_;
};

void note(std::vector<std::string>* notes, const std::string& text) {
  if (notes) notes->push_back(text);
}

std::string lower_extension(std::string ext) {
  if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

// Tags that describe a TIFF file's own pixel layout: they come with a TIFF
// input's EXIF but are not true of any output (the encoder writes its own).
bool is_layout_tag(const Exiv2::Exifdatum& d) {
  static const char* const kLayout[] = {"ImageWidth",
                                        "ImageLength",
                                        "BitsPerSample",
                                        "Compression",
                                        "PhotometricInterpretation",
                                        "StripOffsets",
                                        "SamplesPerPixel",
                                        "RowsPerStrip",
                                        "StripByteCounts",
                                        "PlanarConfiguration",
                                        "TileWidth",
                                        "TileLength",
                                        "TileOffsets",
                                        "TileByteCounts",
                                        "ExtraSamples",
                                        "SampleFormat",
                                        "Predictor",
                                        "FillOrder",
                                        "ColorMap",
                                        "SubIFDs",
                                        "NewSubfileType",
                                        "SubfileType",
                                        "JPEGTables",
                                        "YCbCrSubSampling",
                                        "YCbCrPositioning",
                                        "InterColorProfile",
                                        "XMLPacket",
                                        "IPTCNAA",
                                        "ImageResources"};
  if (d.groupName() != "Image") return false;
  const std::string name = d.tagName();
  return std::any_of(std::begin(kLayout), std::end(kLayout),
                     [&](const char* k) { return name == k; });
}

// The input's EXIF, updated for the image it now describes.
Exiv2::ExifData updated_exif(const ImageMetadata& metadata, cv::Size size) {
  Exiv2::ExifData exif;
  Exiv2::ExifParser::decode(exif, metadata.exif.data(),
                            static_cast<uint32_t>(metadata.exif.size()));
  Exiv2::ExifThumb(exif).erase();
  exif["Exif.Image.Orientation"] = uint16_t{1};
  exif["Exif.Photo.PixelXDimension"] = static_cast<uint32_t>(size.width);
  exif["Exif.Photo.PixelYDimension"] = static_cast<uint32_t>(size.height);
  return exif;
}

// WebP through libwebp's own muxer: Exiv2 0.27 writes a WebP's ICC chunk
// under the wrong name (a second "VP8X"), which loses the profile.
void embed_webp(std::vector<unsigned char>& encoded, const ImageMetadata& metadata, cv::Size size,
                std::vector<std::string>* notes) {
  const std::vector<unsigned char> exif =
      metadata.exif.empty() ? std::vector<unsigned char>() : exif_for_output(metadata, size);
  const WebPData image{encoded.data(), encoded.size()};
  std::unique_ptr<WebPMux, decltype(&WebPMuxDelete)> mux(WebPMuxCreate(&image, 1), WebPMuxDelete);
  if (!mux) throw std::runtime_error("libwebp cannot read the encoded image");
  const auto set = [&](const char* fourcc, const unsigned char* data, size_t n) {
    if (n == 0) return;
    const WebPData chunk{data, n};
    if (WebPMuxSetChunk(mux.get(), fourcc, &chunk, 1) != WEBP_MUX_OK) {
      throw std::runtime_error(std::string("libwebp cannot add the ") + fourcc + " chunk");
    }
  };
  set("ICCP", metadata.icc.data(), metadata.icc.size());
  set("EXIF", exif.data(), exif.size());
  const std::string xmp = metadata.xmp.empty() ? std::string() : xmp_for_output(metadata, size);
  set("XMP ", reinterpret_cast<const unsigned char*>(xmp.data()), xmp.size());
  WebPData out{nullptr, 0};
  if (WebPMuxAssemble(mux.get(), &out) != WEBP_MUX_OK) {
    throw std::runtime_error("libwebp cannot assemble the image");
  }
  encoded.assign(out.bytes, out.bytes + out.size);
  WebPDataClear(&out);
  if (!metadata.iptc.empty()) note(notes, "its IPTC not kept: WebP files cannot hold it");
}

std::vector<unsigned char> encoded_exif(const Exiv2::ExifData& exif) {
  Exiv2::Blob blob;
  Exiv2::ExifParser::encode(blob, Exiv2::littleEndian, exif);
  return std::vector<unsigned char>(blob.begin(), blob.end());
}

// The EXIF an input gives its outputs: all but its own layout tags; empty
// if nothing is left.
std::vector<unsigned char> kept_exif(Exiv2::ExifData exif) {
  for (auto it = exif.begin(); it != exif.end();) {
    it = is_layout_tag(*it) ? exif.erase(it) : std::next(it);
  }
  return exif.empty() ? std::vector<unsigned char>() : encoded_exif(exif);
}

std::vector<unsigned char> bytes_of(const Exiv2::DataBuf& b) {
  return b.size_ > 0 ? std::vector<unsigned char>(b.pData_, b.pData_ + b.size_)
                     : std::vector<unsigned char>();
}

}  // namespace

std::string ImageMetadata::kinds() const {
  std::string s;
  const auto add = [&](bool has, const char* name) {
    if (has) s += (s.empty() ? "" : ", ") + std::string(name);
  };
  add(!exif.empty(), "EXIF");
  add(!icc.empty(), "ICC profile");
  add(!xmp.empty(), "XMP");
  add(!iptc.empty(), "IPTC");
  return s;
}

std::string metadata_library() {
  return "Exiv2 " + Exiv2::versionString() + " (WebP: libwebpmux; HEIF/AVIF: libheif)";
}

bool can_hold_metadata(const std::string& extension) {
  const std::string e = lower_extension(extension);
  return e == "jpg" || e == "jpeg" || e == "jpe" || e == "png" || e == "webp" || e == "tif" ||
         e == "tiff" || e == "avif";
}

std::vector<unsigned char> exif_for_output(const ImageMetadata& metadata, cv::Size size) {
  init_exiv2();
  Exiv2::Blob blob;
  Exiv2::ExifParser::encode(blob, Exiv2::littleEndian, updated_exif(metadata, size));
  return std::vector<unsigned char>(blob.begin(), blob.end());
}

std::string xmp_for_output(const ImageMetadata& metadata, cv::Size size) {
  init_exiv2();
  try {
    Exiv2::XmpData xmp;
    if (Exiv2::XmpParser::decode(xmp, metadata.xmp) != 0) return metadata.xmp;
    bool changed = false;
    const auto update = [&](const char* key, long value) {
      const auto it = xmp.findKey(Exiv2::XmpKey(key));
      if (it == xmp.end()) return;
      it->setValue(std::to_string(value));
      changed = true;
    };
    // The EXIF written says orientation 1 (updated_exif); without EXIF the
    // pixels were not turned, and the XMP's orientation still holds.
    if (!metadata.exif.empty()) update("Xmp.tiff.Orientation", 1);
    update("Xmp.tiff.ImageWidth", size.width);
    update("Xmp.tiff.ImageLength", size.height);
    update("Xmp.exif.PixelXDimension", size.width);
    update("Xmp.exif.PixelYDimension", size.height);
    std::string packet;
    if (!changed || Exiv2::XmpParser::encode(packet, xmp) != 0) return metadata.xmp;
    return packet;
  } catch (const std::exception&) {
    return metadata.xmp;  // what Exiv2 cannot parse or write back goes as it was
  }
}

ImageMetadata metadata_from_parts(std::vector<unsigned char> exif, std::vector<unsigned char> icc,
                                  std::string xmp, std::vector<std::string>* notes) {
  const Exiv2Messages messages(notes);
  ImageMetadata m;
  m.icc = std::move(icc);
  m.xmp = std::move(xmp);
  if (exif.empty()) return m;
  try {
    Exiv2::ExifData data;
    Exiv2::ExifParser::decode(data, exif.data(), static_cast<uint32_t>(exif.size()));
    m.exif = kept_exif(std::move(data));
  } catch (const std::exception& e) {
    note(notes, std::string("its EXIF could not be read and is not kept (") + e.what() + ")");
  }
  return m;
}

ImageMetadata read_metadata(const std::vector<unsigned char>& file,
                            std::vector<std::string>* notes) {
  const Exiv2Messages messages(notes);
  ImageMetadata m;
  try {
    auto image = Exiv2::ImageFactory::open(file.data(), static_cast<long>(file.size()));
    if (image.get() == nullptr) return m;
    image->readMetadata();
    m.exif = kept_exif(image->exifData());
    if (image->iccProfileDefined()) m.icc = bytes_of(*image->iccProfile());
    m.xmp = image->xmpPacket();
    if (!image->iptcData().empty()) m.iptc = bytes_of(Exiv2::IptcParser::encode(image->iptcData()));
  } catch (const std::exception& e) {
    note(notes, std::string("its metadata could not be read and is not kept (") + e.what() + ")");
    return {};
  }
  return m;
}

void embed_metadata(std::vector<unsigned char>& encoded, const std::string& extension,
                    const ImageMetadata& metadata, cv::Size size, std::vector<std::string>* notes) {
  if (metadata.empty()) return;
  const std::string ext = lower_extension(extension);
  if (ext == "avif") {
    throw std::logic_error("embed_metadata: AVIF metadata is written by encode_image");
  }
  if (!can_hold_metadata(ext)) {
    note(notes, "its " + metadata.kinds() + " not kept: " + ext + " files cannot hold them");
    return;
  }
  const Exiv2Messages messages(notes);
  try {
    if (ext == "webp") {
      embed_webp(encoded, metadata, size, notes);
      return;
    }
    auto image = Exiv2::ImageFactory::open(encoded.data(), static_cast<long>(encoded.size()));
    image->readMetadata();  // what the encoder wrote (layout tags, for TIFF)
    if (!metadata.exif.empty()) {
      // The encoder's own layout tags (TIFF) stay; the rest comes from the input.
      Exiv2::ExifData& out = image->exifData();
      for (const auto& d : updated_exif(metadata, size)) out[d.key()] = d.value();
    }
    if (!metadata.icc.empty()) {
      Exiv2::DataBuf icc(metadata.icc.data(), static_cast<long>(metadata.icc.size()));
      image->setIccProfile(icc, /*bTestValid=*/false);
    }
    if (!metadata.xmp.empty()) {
      image->setXmpPacket(xmp_for_output(metadata, size));
      image->writeXmpFromPacket(true);
    }
    if (!metadata.iptc.empty()) {
      Exiv2::IptcData iptc;
      Exiv2::IptcParser::decode(iptc, metadata.iptc.data(),
                                static_cast<uint32_t>(metadata.iptc.size()));
      image->setIptcData(iptc);
    }
    image->writeMetadata();
    Exiv2::BasicIo& io = image->io();
    if (io.open() != 0) throw Exiv2::Error(Exiv2::kerDataSourceOpenFailed, "memory");
    std::vector<unsigned char> out(io.size());
    io.seek(0, Exiv2::BasicIo::beg);
    const long got = io.read(out.data(), static_cast<long>(out.size()));
    io.close();
    if (got != static_cast<long>(out.size())) throw Exiv2::Error(Exiv2::kerFailedToReadImageData);
    encoded =
        ext == "png" && !metadata.icc.empty() ? detail::with_named_icc_chunk(out) : std::move(out);
  } catch (const std::exception& e) {
    note(notes,
         "its " + metadata.kinds() + " could not be written and are not kept (" + e.what() + ")");
  }
}

}  // namespace fdiwn
