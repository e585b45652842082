// HEIF and AVIF headers, built box by box: the primary item's size (ispe)
// and bit depth (pixi) found through pitm and ipma, alpha from an auxC
// property, and damaged or cut files refused. (Real encodes, decoded by
// libheif, are in test_cli_heif.cpp.)
#include <algorithm>
#include <cstdint>
#include <iterator>
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

// One box of iref: `from` refers to each of `to` (dimg: its tiles or
// source; auxl: the image it is the alpha of).
struct Ref {
  std::string type;
  uint32_t from;
  std::vector<uint32_t> to;
};

struct HeifSpec {
  std::string brand = "heic";
  uint32_t width = 640, height = 480;
  int bits = 8;
  bool alpha = false;
  uint16_t primary = 1;
  std::vector<Ref> refs = {};
  bool wide_ids = false;  // iref version 1: 32-bit item IDs
};

Bytes item_id(uint32_t id, bool wide) {
  return wide ? be32(id)
              : Bytes{static_cast<unsigned char>(id >> 8), static_cast<unsigned char>(id & 0xFF)};
}

Bytes iref(const HeifSpec& s) {
  Bytes refs;
  for (const Ref& r : s.refs) {
    Bytes payload = concat(item_id(r.from, s.wide_ids), item_id(r.to.size(), false));
    for (uint32_t to : r.to) payload = concat(payload, item_id(to, s.wide_ids));
    refs = concat(refs, box(r.type, payload));
  }
  return full_box("iref", s.wide_ids ? 1u << 24 : 0, refs);
}

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
  Bytes children = concat(concat(full_box("hdlr", 0, Bytes(20, 0)), pitm), iprp);
  if (!s.refs.empty()) children = concat(children, iref(s));
  const Bytes meta = full_box("meta", 0, children);
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

HeifSpec with_refs(std::vector<Ref> refs, bool wide_ids = false) {
  HeifSpec s;
  s.refs = std::move(refs);
  s.wide_ids = wide_ids;
  return s;
}

void expect_loop(const std::string& what, std::vector<Ref> refs, bool wide_ids = false) {
  expect_refused(what, heif(with_refs(std::move(refs), wide_ids)), "refer to each other in a loop");
}

TEST(HeifProbe, ReferenceLoopsAreRefused) {
  // libheif 1.15 follows these while decoding: a grid that is its own tile
  // started threads without end (found by fuzz_image), two grids that are
  // each other's tile overflowed the stack.
  expect_loop("grid tiled by itself", {{"dimg", 1, {1}}});
  expect_loop("two grids", {{"dimg", 1, {2}}, {"dimg", 2, {1}}});
  expect_loop("32-bit item IDs", {{"dimg", 1, {70000}}, {"dimg", 70000, {1}}}, true);
  expect_loop("behind a tile", {{"dimg", 1, {2, 3}}, {"dimg", 3, {4}}, {"dimg", 4, {3}}});
  // Item 2 is the alpha of item 1 and a grid tiled by item 1.
  expect_loop("alpha and tile", {{"auxl", 2, {1}}, {"dimg", 2, {1}}});
  // libheif reads a reference box field after field, whatever its size
  // says (fuzz_image found a loop behind a lying size): so does the check.
  Bytes lying = heif(with_refs({{"dimg", 1, {1}}}));
  const auto dimg =
      std::search(lying.begin(), lying.end(), std::begin("dimg"), std::end("dimg") - 1);
  ASSERT_NE(dimg, lying.end());
  for (int i = 1; i <= 4; ++i) *(dimg - i) = 0x70;
  expect_refused("a reference box's size lies", lying, "refer to each other in a loop");
}

TEST(HeifProbe, PhoneShapedReferencesPass) {
  // A 2x2 grid with an alpha image and a thumbnail; thmb is not followed.
  const ImageProbe p = probe(heif(with_refs(
      {{"dimg", 1, {2, 3, 4, 5}}, {"auxl", 6, {1}}, {"thmb", 7, {1}}, {"thmb", 1, {7}}})));
  EXPECT_EQ(p.width, 640);
  // A tile used many times is fine up to 4096 decodes: 64 x 64.
  const std::vector<uint32_t> tiles64(64, 3), smaller64(64, 4);
  EXPECT_NO_THROW(probe(heif(with_refs({{"dimg", 1, tiles64}, {"dimg", 3, smaller64}}))));
}

TEST(HeifProbe, TooMuchDecodingIsRefused) {
  // Three levels of 64 tiles: 262144 decodes from a few hundred bytes.
  const std::vector<uint32_t> a(64, 2), b(64, 3), c(64, 4);
  expect_refused("nested grids", heif(with_refs({{"dimg", 1, a}, {"dimg", 2, b}, {"dimg", 3, c}})),
                 "more than 4096 coded images");
  std::vector<Ref> chain;
  for (uint32_t i = 1; i < 18; ++i) chain.push_back({"dimg", i, {i + 1}});
  expect_refused("a chain of 18", heif(with_refs(chain)), "chain of 18 images");
  chain.resize(15);  // 16 images
  EXPECT_NO_THROW(probe(heif(with_refs(chain))));
}

TEST(HeifProbe, EveryPrefixIsRefusedOrProbedWithoutCrashing) {
  // Bounds: no prefix of a valid file reads out of range (the sanitizer
  // build checks the reads) or passes with a wrong size.
  HeifSpec spec{"avif", 321, 123, 10, true};
  spec.refs = {{"dimg", 1, {2, 3}}, {"auxl", 4, {1}}};
  const Bytes whole = heif(spec);
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
