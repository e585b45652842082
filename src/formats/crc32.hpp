// CRC-32 (the polynomial of zlib, PNG and zip), sliced by 8: eight bytes per
// step from eight tables, so that checking every IDAT of a large PNG or every
// tensor of a weights file costs little next to using them. Standard library
// only (the image prober and the weights reader are fuzzed on their own).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace fdiwn::detail {

using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

constexpr CrcTables make_crc_tables() {
  CrcTables t{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][n] = c;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (size_t n = 0; n < 256; ++n) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xFF];
  }
  return t;
}
inline constexpr CrcTables kCrcTables = make_crc_tables();

/// The CRC-32 of `n` bytes at `p`.
inline uint32_t crc32(const unsigned char* p, size_t n) {
  const CrcTables& t = kCrcTables;
  uint32_t c = 0xFFFFFFFFu;
  for (; n >= 8; p += 8, n -= 8) {
    c ^= uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
    c = t[7][c & 0xFF] ^ t[6][(c >> 8) & 0xFF] ^ t[5][(c >> 16) & 0xFF] ^ t[4][c >> 24] ^
        t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
  }
  for (; n > 0; ++p, --n) c = t[0][(c ^ *p) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

}  // namespace fdiwn::detail
