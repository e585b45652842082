#include "formats/zip_archive.hpp"

#include <limits>

#include "fdiwn/errors.hpp"
#include "formats/crc32.hpp"

namespace fdiwn {

namespace {

// The archive's bytes, where a read past the end is an error: a field is
// often read before what it points to can be checked.
class Checked {
 public:
  Checked(const ByteView& file, const std::string& path) : file_(file), path_(path) {}

  [[noreturn]] void fail(const std::string& reason) const { throw WeightsError(path_, reason); }
  bool has(std::size_t offset, std::size_t length) const { return file_.has(offset, length); }
  uint32_t u16(std::size_t at) const {
    need(at, 2);
    return file_.le16(at);
  }
  uint32_t u32(std::size_t at) const {
    need(at, 4);
    return file_.le32(at);
  }
  const unsigned char* at(std::size_t offset) const { return file_.data() + offset; }
  std::size_t size() const { return file_.size(); }

 private:
  void need(std::size_t at, std::size_t n) const {
    if (!has(at, n)) fail("truncated or corrupt zip archive");
  }
  const ByteView& file_;
  const std::string& path_;
};

}  // namespace

constexpr uint32_t kEndOfDirectory = 0x06054b50, kDirectoryEntry = 0x02014b50,
                   kLocalHeader = 0x04034b50;
constexpr std::size_t kMaxEntries = 100000;

std::map<std::string, ZipEntry> read_zip(const ByteView& file, const std::string& path) {
  const Checked b(file, path);
  if (b.size() < 4 || b.u32(0) != kLocalHeader) {
    b.fail("not an fdiwn weights file (no zip archive header)");
  }
  // The end-of-directory record: 22 bytes plus a comment of up to 64 KiB,
  // which must end exactly at the end of the file.
  if (b.size() < 22) b.fail("truncated or corrupt zip archive (too short)");
  const std::size_t last = b.size() - 22;
  const std::size_t lowest = last > 65535 ? last - 65535 : 0;
  std::size_t eocd = std::numeric_limits<std::size_t>::max();
  for (std::size_t p = last + 1; p-- > lowest;) {
    if (b.u32(p) == kEndOfDirectory && p + 22 + b.u16(p + 20) == b.size()) {
      eocd = p;
      break;
    }
  }
  if (eocd == std::numeric_limits<std::size_t>::max()) {
    b.fail("truncated or corrupt zip archive (no end of central directory)");
  }
  const uint32_t entries = b.u16(eocd + 10);
  const uint32_t dir_size = b.u32(eocd + 12), dir_offset = b.u32(eocd + 16);
  if (b.u16(eocd + 4) != 0 || b.u16(eocd + 6) != 0 || entries != b.u16(eocd + 8)) {
    b.fail("multi-part zip archives are not supported");
  }
  if (dir_offset == 0xFFFFFFFFu || entries == 0xFFFFu) b.fail("zip64 archives are not supported");
  if (!b.has(dir_offset, dir_size) || entries > kMaxEntries) {
    b.fail("truncated or corrupt zip archive (central directory out of range)");
  }
  std::map<std::string, ZipEntry> out;
  std::size_t p = dir_offset;
  for (uint32_t i = 0; i < entries; ++i) {
    if (!b.has(p, 46) || b.u32(p) != kDirectoryEntry) {
      b.fail("truncated or corrupt zip archive (bad central directory entry)");
    }
    const uint32_t flags = b.u16(p + 8), method = b.u16(p + 10);
    const uint32_t crc = b.u32(p + 16), packed = b.u32(p + 20), size = b.u32(p + 24);
    const std::size_t name_len = b.u16(p + 28), extra = b.u16(p + 30), comment = b.u16(p + 32);
    const uint32_t local = b.u32(p + 42);
    if (!b.has(p + 46, name_len)) b.fail("truncated or corrupt zip archive (entry name)");
    std::string name(reinterpret_cast<const char*>(b.at(p + 46)), name_len);
    if ((flags & 1) != 0) b.fail("encrypted zip entries are not supported");
    if (method != 0 || packed != size) {
      b.fail("zip entry '" + name + "' is compressed; fdiwn weights files store entries as is");
    }
    if (!b.has(local, 30) || b.u32(local) != kLocalHeader) {
      b.fail("truncated or corrupt zip archive (bad local header for '" + name + "')");
    }
    const std::size_t data = local + 30 + b.u16(local + 26) + b.u16(local + 28);
    if (!b.has(data, size)) {
      b.fail("truncated or corrupt zip archive (entry '" + name + "' runs past the end)");
    }
    // Every entry's CRC: a damaged tensor must not load as other numbers.
    if (detail::crc32(b.at(data), size) != crc) {
      b.fail("corrupt zip archive: the CRC of entry '" + name +
             "' does not match its data (the file was damaged)");
    }
    if (!out.emplace(std::move(name), ZipEntry{data, size}).second) {
      b.fail("corrupt zip archive (an entry name appears twice)");
    }
    p += 46 + name_len + extra + comment;
  }
  return out;
}

}  // namespace fdiwn
