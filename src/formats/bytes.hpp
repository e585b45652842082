// Bounds-checked reading of bytes: the one reader the image probers and the
// weights format share. Standard library only (both are fuzzed on their own).
//
// Every reader returns 0 outside the input, so that a forgotten check gives
// a wrong value, never an out-of-bounds read; every range check is
// `off <= size && len <= size - off`, which cannot overflow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fdiwn {

/// The multi-byte readers, for any source with size(), u8(off) and has().
template <class Source>
class ByteReaders {
 public:
  /// has() for 64-bit offsets read from a file (BigTIFF, EXIF, zip), which
  /// may exceed size_t on 32-bit targets.
  bool has64(uint64_t off, uint64_t len) const {
    return off <= self().size() && len <= static_cast<uint64_t>(self().size()) - off;
  }
  uint32_t be16(size_t off) const { return ok(off, 2) ? (u8(off) << 8) | u8(off + 1) : 0; }
  uint32_t le16(size_t off) const { return ok(off, 2) ? u8(off) | (u8(off + 1) << 8) : 0; }
  uint32_t le24(size_t off) const { return ok(off, 3) ? le16(off) | (u8(off + 2) << 16) : 0; }
  uint32_t be32(size_t off) const { return ok(off, 4) ? (be16(off) << 16) | be16(off + 2) : 0; }
  uint32_t le32(size_t off) const { return ok(off, 4) ? le16(off) | (le16(off + 2) << 16) : 0; }
  uint64_t be64(size_t off) const {
    return ok(off, 8) ? (static_cast<uint64_t>(be32(off)) << 32) | be32(off + 4) : 0;
  }
  uint64_t le64(size_t off) const {
    return ok(off, 8) ? le32(off) | (static_cast<uint64_t>(le32(off + 4)) << 32) : 0;
  }
  /// Whether the input holds the n bytes of `s` at `off`.
  bool matches(size_t off, const char* s, size_t n) const {
    if (!ok(off, n)) return false;
    for (size_t i = 0; i < n; ++i) {
      if (u8(off + i) != static_cast<unsigned char>(s[i])) return false;
    }
    return true;
  }

 private:
  const Source& self() const { return static_cast<const Source&>(*this); }
  uint32_t u8(size_t off) const { return self().u8(off); }
  bool ok(size_t off, size_t len) const { return self().has(off, len); }
};

/// A view of bytes in memory (which must outlive it).
class ByteView : public ByteReaders<ByteView> {
 public:
  ByteView() = default;
  ByteView(const unsigned char* data, size_t size) : data_(data), size_(data ? size : 0) {}

  size_t size() const { return size_; }
  const unsigned char* data() const { return data_; }
  bool has(size_t off, size_t len) const { return off <= size_ && len <= size_ - off; }
  uint32_t u8(size_t off) const { return off < size_ ? data_[off] : 0; }
  /// [off, off + len) if it lies inside, else an empty view.
  ByteView sub(size_t off, size_t len) const {
    return has(off, len) ? ByteView(data_ + off, len) : ByteView();
  }
  ByteView from(size_t off) const {
    return off <= size_ ? ByteView(data_ + off, size_ - off) : ByteView();
  }
  /// Faster than the generic one: the bytes are in memory.
  bool matches(size_t off, const char* s, size_t n) const {
    return has(off, n) && std::memcmp(data_ + off, s, n) == 0;
  }

 private:
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

/// Whether `in` holds the string literal `s` (without its NUL) at `off`.
template <class Source, size_t N>
bool matches(const Source& in, size_t off, const char (&s)[N]) {
  return in.matches(off, s, N - 1);
}

}  // namespace fdiwn
