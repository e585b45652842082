// What an image file carries besides its pixels (EXIF, the ICC colour
// profile, XMP, IPTC), read from an input and written into an output, so
// that an upscaled photo keeps its camera data and its colours. Bytes only:
// no library type appears here (Exiv2 does the work inside).
#pragma once

#include <string>
#include <vector>

#include <opencv2/core/types.hpp>
#include "fdiwn/export.hpp"

FDIWN_API_BEGIN
namespace fdiwn {

struct ImageMetadata {
  std::vector<unsigned char> exif;  ///< EXIF as a TIFF structure (no "Exif\0\0")
  std::vector<unsigned char> icc;   ///< the ICC profile, byte for byte
  std::string xmp;                  ///< the XMP packet
  std::vector<unsigned char> iptc;  ///< IPTC IIM records

  bool empty() const { return exif.empty() && icc.empty() && xmp.empty() && iptc.empty(); }
  /// What it holds, for messages: "EXIF, ICC profile, XMP".
  std::string kinds() const;
};

/// The metadata of an image file's bytes (which the header prober has
/// already accepted). Damaged metadata never stops the image: what cannot
/// be read is left out, with a note saying why.
///
/// Process-wide: on first use, Exiv2's log handler is set to one that gives
/// the messages of a thread inside one of these calls to that call's notes,
/// and every other message to stderr, as Exiv2's default handler does.
ImageMetadata read_metadata(const std::vector<unsigned char>& file,
                            std::vector<std::string>* notes = nullptr);

/// Metadata from parts a decoder found itself (HEIF, AVIF): the EXIF (a
/// TIFF structure) is checked and cleaned as read_metadata does; damaged
/// EXIF is left out with a note.
ImageMetadata metadata_from_parts(std::vector<unsigned char> exif, std::vector<unsigned char> icc,
                                  std::string xmp, std::vector<std::string>* notes = nullptr);

/// The EXIF of `metadata` (not empty) updated for the image it now
/// describes: orientation 1, pixel dimensions `size`, no thumbnail. A TIFF
/// structure, little-endian.
std::vector<unsigned char> exif_for_output(const ImageMetadata& metadata, cv::Size size);

/// The XMP packet of `metadata` (not empty) updated as exif_for_output
/// updates the EXIF: its orientation 1 where there is EXIF (whose orientation
/// was applied to the pixels), its pixel dimensions `size`. A packet Exiv2
/// cannot parse or write back is returned as it was.
std::string xmp_for_output(const ImageMetadata& metadata, cv::Size size);

/// Drops, with a note, an ICC profile whose colour space (its header's
/// bytes 16-19) is not that of the decoded pixels, `channels` of them (1:
/// GRAY; 3 or 4: RGB): a CMYK JPEG's CMYK profile, once its pixels are RGB,
/// would mislead every reader of the output. A header too short to say is
/// left alone.
void drop_unfitting_icc_profile(ImageMetadata& metadata, int channels,
                                std::vector<std::string>* notes = nullptr);

/// The libraries behind the metadata, for `fdiwn info`: "Exiv2 0.27.6".
std::string metadata_library();

/// True if files with this extension can hold metadata (JPEG, PNG, WebP,
/// TIFF, AVIF; AVIF's is written by its encoder, see encode_image).
bool can_hold_metadata(const std::string& extension);

/// Writes `metadata` into an encoded image of the format `extension`, its
/// EXIF updated for the image it now describes: orientation 1 (the
/// orientation has been applied to the pixels), pixel dimensions `size`, no
/// embedded thumbnail. A format that holds none of it, or a failure to
/// write it, leaves `encoded` as it was, with a note. Not for AVIF, whose
/// encoder writes the metadata (encode_image).
void embed_metadata(std::vector<unsigned char>& encoded, const std::string& extension,
                    const ImageMetadata& metadata, cv::Size size,
                    std::vector<std::string>* notes = nullptr);

}  // namespace fdiwn
FDIWN_API_END
