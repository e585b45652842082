// TIFF image file directories, read from a TIFF file or an EXIF block.
#pragma once

#include <cstddef>
#include <cstdint>

#include "formats/bytes.hpp"

namespace fdiwn::probe {

// One entry of an image file directory: where its value field lies in the
// TIFF view, so values are read only when asked for.
struct IfdEntry {
  uint32_t tag = 0;
  uint32_t type = 0;
  uint64_t count = 0;
  size_t value_field = 0;
};

template <class Source>
class TiffReader {
 public:
  explicit TiffReader(const Source& tiff) : in_(tiff) {}

  // Reads the header; false if this is not a TIFF structure.
  bool open() {
    if (matches(in_, 0, "II")) {
      little_ = true;
    } else if (matches(in_, 0, "MM")) {
      little_ = false;
    } else {
      return false;
    }
    const uint32_t magic = u16(2);
    if (magic == 42) {
      big_ = false;
      ifd0_ = u32(4);
      return in_.has(0, 8);
    }
    if (magic == 43) {  // BigTIFF: offset size 8, then a 64-bit IFD offset
      big_ = true;
      ifd0_ = u64(8);
      return in_.has(0, 16) && u16(4) == 8 && u16(6) == 0;
    }
    return false;
  }

  // Calls f(entry) for each entry of the first directory. False if the
  // directory does not lie entirely inside the input. Only the first directory
  // is read, so offset cycles between directories cannot make this loop.
  template <typename F>
  bool for_each_ifd0_entry(F&& f) const {
    const uint64_t count_size = big_ ? 8 : 2;
    const uint64_t entry_size = big_ ? 20 : 12;
    if (ifd0_ < 8 || !in_.has64(ifd0_, count_size)) return false;
    const size_t start = static_cast<size_t>(ifd0_);
    const uint64_t count = big_ ? u64(start) : u16(start);
    const size_t first = start + static_cast<size_t>(count_size);
    // The count is bounded by what fits in the input, so the loop is too.
    if (count > (in_.size() - first) / entry_size) return false;
    for (uint64_t i = 0; i < count; ++i) {
      const size_t at = first + static_cast<size_t>(i * entry_size);
      IfdEntry e;
      e.tag = u16(at);
      e.type = u16(at + 2);
      e.count = big_ ? u64(at + 4) : u32(at + 4);
      e.value_field = at + (big_ ? 12 : 8);
      f(e);
    }
    return true;
  }

  // The index-th value of an integer entry (BYTE, SHORT, LONG, LONG8); false
  // for other types or when the value lies outside the input.
  bool value(const IfdEntry& e, uint64_t index, uint64_t* out) const {
    // BYTE, SHORT, LONG, LONG8 (BigTIFF).
    const uint64_t size = e.type == 1    ? 1
                          : e.type == 3  ? 2
                          : e.type == 4  ? 4
                          : e.type == 16 ? 8
                                         : 0;
    if (size == 0) return false;
    if (index >= e.count) return false;
    const uint64_t inline_capacity = big_ ? 8 : 4;
    // Values that fit sit in the value field itself; others at an offset.
    uint64_t base = e.value_field;
    if (e.count > inline_capacity / size) base = big_ ? u64(e.value_field) : u32(e.value_field);
    // index < count and count * size bytes must fit: check without overflow.
    if (!in_.has64(base, 0) || index > (in_.size() - base) / size) return false;
    const uint64_t at = base + index * size;
    if (!in_.has64(at, size)) return false;
    const size_t pos = static_cast<size_t>(at);
    *out = size == 1 ? in_.u8(pos) : size == 2 ? u16(pos) : size == 4 ? u32(pos) : u64(pos);
    return true;
  }

 private:
  uint32_t u16(size_t off) const { return little_ ? in_.le16(off) : in_.be16(off); }
  uint32_t u32(size_t off) const { return little_ ? in_.le32(off) : in_.be32(off); }
  uint64_t u64(size_t off) const { return little_ ? in_.le64(off) : in_.be64(off); }

  Source in_;
  bool little_ = true;
  bool big_ = false;
  uint64_t ifd0_ = 0;
};

constexpr uint32_t kTagOrientation = 0x0112;

}  // namespace fdiwn::probe
