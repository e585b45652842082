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
    size_t first = 0;
    uint64_t count = 0;
    if (!ifd0_entries(&first, &count)) return false;
    for (uint64_t i = 0; i < count; ++i) {
      const size_t at = first + static_cast<size_t>(i * entry_size());
      IfdEntry e;
      e.tag = u16(at);
      e.type = u16(at + 2);
      e.count = big_ ? u64(at + 4) : u32(at + 4);
      e.value_field = at + (big_ ? 12 : 8);
      f(e);
    }
    return true;
  }

  // Whether a second directory (a second page) follows the first: the offset
  // after the first directory's entries is not 0 and lies inside the input.
  bool has_second_directory() const {
    size_t first = 0;
    uint64_t count = 0;
    if (!ifd0_entries(&first, &count)) return false;
    const size_t at = first + static_cast<size_t>(count * entry_size());
    if (!in_.has64(at, big_ ? 8 : 4)) return false;
    const uint64_t next = big_ ? u64(at) : u32(at);
    return next >= 8 && in_.has64(next, big_ ? 8 : 2);
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
  uint64_t entry_size() const { return big_ ? 20 : 12; }

  // Where the first directory's entries start and how many there are; false
  // if its count or its entries lie outside the input (so the count bounds
  // every loop over them).
  bool ifd0_entries(size_t* first, uint64_t* count) const {
    const uint64_t count_size = big_ ? 8 : 2;
    if (ifd0_ < 8 || !in_.has64(ifd0_, count_size)) return false;
    const size_t start = static_cast<size_t>(ifd0_);
    *count = big_ ? u64(start) : u16(start);
    *first = start + static_cast<size_t>(count_size);
    return *count <= (in_.size() - *first) / entry_size();
  }

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
