// The byte readers over a file that is not in memory: blocks are read on
// demand (and the last few kept), so that a TIFF directory at the end of a
// large file can be read without reading the file.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "fdiwn/image_probe.hpp"
#include "formats/bytes.hpp"

namespace fdiwn::probe {

class FileBytes : public ByteReaders<FileBytes> {
 public:
  FileBytes(uint64_t size, const ReadAt& read_at) : size_(size), read_at_(read_at) {}

  size_t size() const { return size_ > kMaxSize ? kMaxSize : static_cast<size_t>(size_); }
  bool has(size_t off, size_t len) const { return off <= size() && len <= size() - off; }
  uint32_t u8(size_t off) const {
    if (off >= size()) return 0;
    const uint64_t block = off / kBlock;
    auto it = cache_.find(block);
    if (it == cache_.end()) {
      if (cache_.size() >= kCachedBlocks) cache_.clear();
      it = cache_.emplace(block, read_at_(block * kBlock, kBlock)).first;
    }
    const size_t at = off % kBlock;
    return at < it->second.size() ? it->second[at] : 0;
  }

 private:
  static constexpr size_t kBlock = 4096;
  static constexpr size_t kCachedBlocks = 64;
  static constexpr uint64_t kMaxSize = std::numeric_limits<size_t>::max();
  uint64_t size_;
  const ReadAt& read_at_;
  mutable std::map<uint64_t, std::vector<unsigned char>> cache_;
};

}  // namespace fdiwn::probe
