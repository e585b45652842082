// HEIF (HEIC) and AVIF: the ISO base media file format boxes that say what
// the primary image is and how large, read before libheif decodes anything.
//
// The path to the size: ftyp (brands: which format), then meta (a full box)
// holding pitm (the primary item's ID) and iprp, whose ipco lists the item
// properties and whose ipma says which of them belong to which item. The
// primary item's ispe property is its size as stored (before the irot and
// imir transformations, which only turn it); its pixi property gives the
// bits per channel. For a grid image (a phone's HEIC: tiles of 512x512) the
// grid item's ispe is the whole image.
//
// Then the references between items (iref): libheif 1.15 follows them while
// decoding without checking for loops or counting the work, so a grid that
// is its own tile starts threads without end and two grids that are each
// other's tile overflow the stack. The loops, the depth and the number of
// coded images one decode sets off are checked here first.
#include <algorithm>
#include <string>
#include <vector>

#include "formats/probe/probers.hpp"

namespace fdiwn::probe {

namespace {

// One box: its type and where its payload lies. `end` is where the next
// box starts; a box running past its container ends the walk.
struct Box {
  size_t start = 0, payload = 0, end = 0;
  std::string type;
};

// The boxes in [pos, end), one at a time. Every box advances by at least its
// 8-byte header, so a walk over n bytes takes at most n / 8 turns.
class BoxWalk {
 public:
  BoxWalk(const ByteView& in, size_t pos, size_t end) : in_(in), pos_(pos), end_(end) {}

  bool next(Box& box) {
    if (pos_ > end_ || end_ - pos_ < 8 || !in_.has(pos_, 8)) return false;
    uint64_t size = in_.be32(pos_);
    size_t header = 8;
    if (size == 1) {  // a 64-bit size follows the type
      if (end_ - pos_ < 16 || !in_.has(pos_, 16)) return false;
      size = in_.be64(pos_ + 8);
      header = 16;
    } else if (size == 0) {  // to the end of the container
      size = end_ - pos_;
    }
    if (size < header || size > end_ - pos_) return false;
    box.start = pos_;
    box.payload = pos_ + header;
    box.end = pos_ + static_cast<size_t>(size);
    box.type = printable(in_, pos_ + 4, 4);
    pos_ = box.end;
    return true;
  }

 private:
  const ByteView& in_;
  size_t pos_, end_;
};

bool find_box(const ByteView& in, size_t pos, size_t end, const char* type, Box& found) {
  BoxWalk walk(in, pos, end);
  Box box;
  while (walk.next(box)) {
    if (box.type == type) {
      found = box;
      return true;
    }
  }
  return false;
}

// AVIF if its brands say so (major or compatible), HEIF otherwise.
ImageFormat brand_format(const ByteView& in, const Box& ftyp) {
  const auto is_avif = [&](size_t off) {
    return matches(in, off, "avif") || matches(in, off, "avis");
  };
  if (is_avif(ftyp.payload)) return ImageFormat::Avif;
  for (size_t off = ftyp.payload + 8; off + 4 <= ftyp.end; off += 4) {
    if (is_avif(off)) return ImageFormat::Avif;
  }
  return ImageFormat::Heif;
}

// The 1-based indices in ipco of the properties ipma gives `item`; up to
// `max` of them (an item has a handful; more is a hostile file).
size_t item_properties(const ByteView& in, const Box& ipma, uint32_t item, size_t* out,
                       size_t max) {
  const uint32_t version = in.u8(ipma.payload);
  const bool wide_index = (in.u8(ipma.payload + 3) & 1) != 0;  // flags & 1
  const uint32_t entries = in.be32(ipma.payload + 4);
  size_t pos = ipma.payload + 8;
  for (uint32_t e = 0; e < entries && pos < ipma.end; ++e) {
    const uint32_t id = version < 1 ? in.be16(pos) : in.be32(pos);
    pos += version < 1 ? 2 : 4;
    const uint32_t count = in.u8(pos);
    pos += 1;
    size_t n = 0;
    for (uint32_t a = 0; a < count && pos < ipma.end; ++a) {
      const uint32_t index = wide_index ? (in.be16(pos) & 0x7FFF) : (in.u8(pos) & 0x7F);
      pos += wide_index ? 2 : 1;
      if (id == item && n < max) out[n++] = index;
    }
    if (id == item) return n;
  }
  return 0;
}

// A decoding dependency: `from` cannot be decoded without `to`.
struct Reference {
  uint32_t from = 0, to = 0;
  bool derived = false;  // a tile or source image (dimg), else an auxiliary one (alpha)
};

// The dimg and auxl references in iref (a full box: version 0 has 16-bit
// item IDs, 1 has 32-bit): one reference box per type and source item, each
// a box header, from_item_ID, reference_count and the to_item_IDs. Read as
// libheif 1.15 reads them, field after field with the reference boxes' own
// sizes ignored, since its reading is what gets decoded. Each reference takes
// at least two bytes of the file, so the list grows with the file, not with
// a claimed count.
std::vector<Reference> decoding_references(const ByteView& in, const Box& iref) {
  std::vector<Reference> refs;
  const size_t id_size = in.u8(iref.payload) == 0 ? 2 : 4;
  const auto id_at = [&](size_t pos) { return id_size == 2 ? in.be16(pos) : in.be32(pos); };
  const auto left = [&](size_t pos) { return pos < iref.end ? iref.end - pos : 0; };
  size_t pos = iref.payload + 4;
  while (left(pos) >= 8) {  // each turn moves on by at least 8 bytes
    const bool large = in.be32(pos) == 1;
    const std::string type = printable(in, pos + 4, 4);
    pos += 8 + (large ? 8 : 0) + (type == "uuid" ? 16 : 0);
    if (left(pos) < id_size + 2) break;
    const uint32_t from = id_at(pos);
    const uint32_t count = in.be16(pos + id_size);
    pos += id_size + 2;
    const bool derived = type == "dimg";
    for (uint32_t i = 0; i < count && left(pos) >= id_size; ++i, pos += id_size) {
      const uint32_t to = id_at(pos);
      // An auxiliary image points at its master; decoding goes the other way.
      if (derived) refs.push_back({from, to, true});
      if (type == "auxl") refs.push_back({to, from, false});
    }
  }
  return refs;
}

// How much decoding the primary item sets off, through the references: the
// coded images decoded (a tile used twice is decoded twice) and the longest
// chain. A phone's 12-megapixel HEIC is 48 tiles, 2 deep (3 with alpha).
constexpr uint64_t kMaxDecodes = 4096;
constexpr uint32_t kMaxDepth = 16;

void check_references(const std::vector<Reference>& refs, uint32_t primary, const std::string& path,
                      const std::string& name) {
  if (refs.empty()) return;
  std::vector<uint32_t> ids;
  for (const Reference& r : refs) {
    ids.push_back(r.from);
    ids.push_back(r.to);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const auto node = [&](uint32_t id) {
    return static_cast<size_t>(std::lower_bound(ids.begin(), ids.end(), id) - ids.begin());
  };
  // Edges grouped by their source node.
  std::vector<Reference> edges = refs;
  std::sort(edges.begin(), edges.end(),
            [](const Reference& a, const Reference& b) { return a.from < b.from; });
  std::vector<size_t> first(ids.size() + 1, 0), waiting(ids.size(), 0);
  for (const Reference& e : edges) {
    ++first[node(e.from) + 1];
    ++waiting[node(e.to)];
  }
  for (size_t i = 0; i < ids.size(); ++i) first[i + 1] += first[i];
  // Kahn's order: every item after all the items that need it. Items left
  // over lie on a loop or behind one.
  std::vector<size_t> order;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (waiting[i] == 0) order.push_back(i);
  }
  for (size_t k = 0; k < order.size(); ++k) {
    for (size_t e = first[order[k]]; e < first[order[k] + 1]; ++e) {
      if (--waiting[node(edges[e].to)] == 0) order.push_back(node(edges[e].to));
    }
  }
  if (order.size() < ids.size()) {
    fail(path, "broken " + name + ": its images refer to each other in a loop");
  }
  // Needed items before the items that need them: reverse Kahn's order.
  std::vector<uint64_t> decodes(ids.size(), 1);
  std::vector<uint32_t> depth(ids.size(), 1);
  for (size_t k = order.size(); k-- > 0;) {
    const size_t v = order[k];
    uint64_t tiles = 0, auxiliary = 0;
    bool derived = false;
    for (size_t e = first[v]; e < first[v + 1]; ++e) {
      const size_t to = node(edges[e].to);
      (edges[e].derived ? tiles : auxiliary) += decodes[to];
      derived = derived || edges[e].derived;
      depth[v] = std::max(depth[v], depth[to] + 1);
    }
    // Saturated: the sums cannot overflow and stay over the limit.
    decodes[v] = std::min(kMaxDecodes + 1, (derived ? tiles : 1) + auxiliary);
  }
  if (!std::binary_search(ids.begin(), ids.end(), primary)) return;
  const size_t p = node(primary);
  if (decodes[p] > kMaxDecodes) {
    fail(path, "the " + name + " image is made of more than " + std::to_string(kMaxDecodes) +
                   " coded images (tiles counted as often as they are used)");
  }
  if (depth[p] > kMaxDepth) {
    fail(path, "the " + name + " image is derived through a chain of " + std::to_string(depth[p]) +
                   " images (more than " + std::to_string(kMaxDepth) + ")");
  }
}

}  // namespace

bool is_heif(const ByteView& in) {
  if (!matches(in, 4, "ftyp")) return false;
  for (const char* brand :
       {"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis"}) {
    if (in.matches(8, brand, 4)) return true;
  }
  return false;
}

ImageProbe probe_heif(const ByteView& in, const std::string& path) {
  ImageProbe p;
  Box ftyp;
  if (!find_box(in, 0, in.size(), "ftyp", ftyp)) fail(path, "broken HEIF: no file type box");
  p.format = brand_format(in, ftyp);
  const std::string name = format_name(p.format);
  Box meta, pitm, iprp, ipco, ipma;
  if (!find_box(in, 0, in.size(), "meta", meta)) {
    fail(path, "broken " + name + ": no 'meta' box (the file may be cut short)");
  }
  // meta is a full box: version and flags before its children.
  const size_t children = meta.payload + 4;
  if (!find_box(in, children, meta.end, "pitm", pitm) ||
      !find_box(in, children, meta.end, "iprp", iprp) ||
      !find_box(in, iprp.payload, iprp.end, "ipco", ipco) ||
      !find_box(in, iprp.payload, iprp.end, "ipma", ipma)) {
    fail(path, "broken " + name + ": no primary image with properties in its 'meta' box");
  }
  const uint32_t primary =
      in.u8(pitm.payload) == 0 ? in.be16(pitm.payload + 4) : in.be32(pitm.payload + 4);
  constexpr size_t kMaxProperties = 32;
  size_t wanted[kMaxProperties];
  const size_t count = item_properties(in, ipma, primary, wanted, kMaxProperties);
  bool sized = false;
  p.channels = 3;
  p.bit_depth = 8;
  BoxWalk walk(in, ipco.payload, ipco.end);
  Box property;
  for (size_t index = 1; walk.next(property); ++index) {
    // Alpha is an auxiliary image of its own; its auxC names it.
    const std::string aux_type =
        property.type == "auxC" && property.end - property.payload > 4
            ? printable(in, property.payload + 4,
                        std::min<size_t>(property.end - property.payload - 4, 64))
            : std::string();
    if (aux_type.find("alpha") != std::string::npos ||
        aux_type.find("auxid:1") != std::string::npos) {
      p.channels = 4;
      p.transparency = true;
    }
    bool belongs = false;
    for (size_t i = 0; i < count; ++i) belongs = belongs || wanted[i] == index;
    if (!belongs) continue;
    if (property.type == "ispe" && in.has(property.payload, 12)) {
      set_size(p, in.be32(property.payload + 4), in.be32(property.payload + 8), path);
      sized = true;
    } else if (property.type == "pixi" && in.has(property.payload, 6)) {
      const uint32_t bits = in.u8(property.payload + 5);
      if (bits > 8) p.bit_depth = bits > 16 ? 16 : static_cast<int>(bits);
    }
  }
  if (!sized) fail(path, "broken " + name + ": its primary image has no size (no 'ispe')");
  Box iref;
  if (find_box(in, children, meta.end, "iref", iref)) {
    check_references(decoding_references(in, iref), primary, path, name);
  }
  return p;
}

}  // namespace fdiwn::probe
