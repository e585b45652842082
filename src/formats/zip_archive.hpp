// The zip archives PyTorch's serialisation writes: entries stored as they
// are (not compressed), one central directory. Standard library only.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "formats/bytes.hpp"

namespace fdiwn {

/// Where an entry's data lies in the archive.
struct ZipEntry {
  std::size_t offset = 0;
  std::size_t size = 0;
};

/// The entries of the archive `file`, by name, every entry's CRC checked.
/// Throws WeightsError(path, reason) for anything but a well-formed archive
/// of stored entries (truncated, compressed, encrypted, multi-part, zip64).
std::map<std::string, ZipEntry> read_zip(const ByteView& file, const std::string& path);

}  // namespace fdiwn
