#include "io/icc_profile.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

#include "fdiwn/metadata.hpp"
#include "formats/crc32.hpp"

namespace fdiwn {

namespace detail {

// Named as Exiv2 itself and Photoshop name it.
std::vector<unsigned char> with_named_icc_chunk(const std::vector<unsigned char>& png) {
  static const std::string kName = "ICC Profile";
  const auto be32 = [&](size_t at) {
    return uint32_t{png[at]} << 24 | uint32_t{png[at + 1]} << 16 | uint32_t{png[at + 2]} << 8 |
           uint32_t{png[at + 3]};
  };
  const auto put32 = [](std::vector<unsigned char>& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<unsigned char>(v >> shift));
  };
  size_t at = std::min<size_t>(8, png.size());  // the signature
  std::vector<unsigned char> out(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(at));
  while (at + 12 <= png.size() && be32(at) <= png.size() - at - 12) {
    const size_t length = be32(at), end = at + 12 + length;
    const auto from = png.begin() + static_cast<std::ptrdiff_t>(at);
    if (length > 0 && std::equal(from + 4, from + 8, "iCCP") && from[8] == 0) {
      std::vector<unsigned char> chunk{'i', 'C', 'C', 'P'};
      chunk.insert(chunk.end(), kName.begin(), kName.end());
      chunk.insert(chunk.end(), from + 8, from + 8 + static_cast<std::ptrdiff_t>(length));
      put32(out, static_cast<uint32_t>(chunk.size() - 4));
      out.insert(out.end(), chunk.begin(), chunk.end());
      put32(out, detail::crc32(chunk.data(), chunk.size()));
    } else {
      out.insert(out.end(), from, from + static_cast<std::ptrdiff_t>(end - at));
    }
    at = end;
  }
  out.insert(out.end(), png.begin() + static_cast<std::ptrdiff_t>(at), png.end());  // as it is
  return out;
}

}  // namespace detail

void drop_unfitting_icc_profile(ImageMetadata& metadata, int channels,
                                std::vector<std::string>* notes) {
  constexpr size_t kSpaceAt = 16;  // the data colour space, in the header
  if (metadata.icc.size() < kSpaceAt + 4) return;
  const std::string space(metadata.icc.begin() + kSpaceAt, metadata.icc.begin() + kSpaceAt + 4);
  const std::string pixels = channels == 1 ? "GRAY" : "RGB ";
  if (space == pixels) return;
  metadata.icc.clear();
  if (notes) {
    const auto trimmed = [](std::string s) {  // signatures are padded with spaces
      while (!s.empty() && s.back() == ' ') s.pop_back();
      return s;
    };
    notes->push_back("its ICC profile not kept: it is for " + trimmed(space) +
                     " pixels, and these are " + trimmed(pixels));
  }
}

}  // namespace fdiwn
