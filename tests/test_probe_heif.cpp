// HEIF and AVIF headers, built box by box: the primary item's size (ispe)
// and bit depth (pixi) found through pitm and ipma, alpha from an auxC
// property, and damaged or cut files refused. (Real encodes, decoded by
// libheif, are in test_cli_heif.cpp.)
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fdiwn/errors.hpp"
#include "fdiwn/image_probe.hpp"
#include "probe_builders.hpp"

namespace fdiwn::test {
namespace {

Bytes be32(uint32_t v) {
  return {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
          static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
}

Bytes box(const std::string& type, const Bytes& payload) {
  return concat(concat(be32(static_cast<uint32_t>(payload.size() + 8)), bytes_of(type)), payload);
}

// A full box: version and flags, then the payload.
Bytes full_box(const std::string& type, uint32_t version_flags, const Bytes& payload) {
  return box(type, concat(be32(version_flags), payload));
}

struct HeifSpec {
  std::string brand = "heic";
  uint32_t width = 640, height = 480;
  int bits = 8;
  bool alpha = false;
  uint16_t primary = 1;
};

// ftyp, then meta with pitm, iinf-less iprp: ipco holds [ispe of a
// thumbnail (item 2), ispe of the primary, pixi, auxC?], ipma maps them.
Bytes heif(const HeifSpec& s) {
  Bytes ipco = full_box("ispe", 0, concat(be32(160), be32(120)));  // property 1: item 2's
  ipco = concat(ipco, full_box("ispe", 0, concat(be32(s.width), be32(s.height))));  // 2
  ipco = concat(ipco,
                full_box("pixi", 0,
                         {3, static_cast<unsigned char>(s.bits), static_cast<unsigned char>(s.bits),
                          static_cast<unsigned char>(s.bits)}));  // 3
  if (s.alpha) {
    ipco = concat(ipco,
                  full_box("auxC", 0, bytes_of(std::string("urn:mpeg:hevc:2015:auxid:1") + '\0')));
  }
  // ipma: item 2 -> property 1; item 1 -> properties 2 and 3 (2 essential).
  const Bytes ipma = full_box("ipma", 0, concat(be32(2), Bytes{0, 2, 1, 1, 0, 1, 2, 0x82, 3}));
  const Bytes iprp = box("iprp", concat(box("ipco", ipco), ipma));
  const Bytes pitm = full_box(
      "pitm", 0,
      {static_cast<unsigned char>(s.primary >> 8), static_cast<unsigned char>(s.primary & 0xFF)});
  const Bytes meta =
      full_box("meta", 0, concat(concat(full_box("hdlr", 0, Bytes(20, 0)), pitm), iprp));
  const Bytes ftyp = box("ftyp", concat(concat(bytes_of(s.brand), be32(0)), bytes_of("mif1")));
  return concat(concat(ftyp, meta), box("mdat", Bytes(16, 0)));
}

void expect_heif(const std::string& what, const HeifSpec& spec, ImageFormat format, int channels,
                 int depth) {
  SCOPED_TRACE(what);
  const ImageProbe p = probe(heif(spec));
  EXPECT_EQ(format_name(p.format), std::string(format_name(format)));
  EXPECT_EQ(p.width, static_cast<int>(spec.width));
  EXPECT_EQ(p.height, static_cast<int>(spec.height));
  EXPECT_EQ(p.channels, channels);
  EXPECT_EQ(p.bit_depth, depth);
  EXPECT_EQ(p.transparency, channels == 4);
}

TEST(HeifProbe, PrimaryItemsSizeAndDepth) {
  expect_heif("HEIC 8-bit", {}, ImageFormat::Heif, 3, 8);
  expect_heif("HEIC 10-bit", {"heic", 4032, 3024, 10}, ImageFormat::Heif, 3, 10);
  expect_heif("AVIF with alpha", {"avif", 33, 17, 8, true}, ImageFormat::Avif, 4, 8);
  expect_heif("AVIF 12-bit", {"avif", 100, 50, 12}, ImageFormat::Avif, 3, 12);
  expect_heif("mif1 brand", {"mif1", 7, 9}, ImageFormat::Heif, 3, 8);
}

TEST(HeifProbe, AHugeClaimIsSizedFromTheHeader) {
  // What --max-pixels and the memory budget are checked against.
  const ImageProbe p = probe(heif({"heic", 100000, 100000}));
  EXPECT_EQ(p.width, 100000);
  EXPECT_EQ(p.height, 100000);
}

TEST(HeifProbe, DamagedOrCutFilesAreRefused) {
  expect_refused("zero width", heif({"heic", 0, 480}), "zero width");
  HeifSpec other_primary;
  other_primary.primary = 7;  // no properties for item 7
  expect_refused("primary without ispe", heif(other_primary), "no size");
  const Bytes whole = heif({});
  expect_refused("cut in the meta box", prefix(whole, 60), "meta");
  expect_refused("ftyp only", prefix(whole, 20), "meta");
  Bytes lying = whole;
  lying[3] = 0xFF;  // ftyp claims more than the file
  EXPECT_THROW(probe(lying), ImageError);
}

TEST(HeifProbe, EveryPrefixIsRefusedOrProbedWithoutCrashing) {
  // Bounds: no prefix of a valid file reads out of range (the sanitizer
  // build checks the reads) or passes with a wrong size.
  const Bytes whole = heif({"avif", 321, 123, 10, true});
  for (size_t n = 0; n < whole.size(); ++n) {
    try {
      const ImageProbe p = probe(prefix(whole, n));
      EXPECT_EQ(p.width, 321) << n;
    } catch (const ImageError&) {
    }
  }
}

}  // namespace
}  // namespace fdiwn::test
