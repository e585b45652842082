// ICC profiles as the output's pixels and format need them.
#pragma once

#include <vector>

namespace fdiwn::detail {

/// `png` with its iCCP chunk named: Exiv2 0.27 writes a new iCCP chunk with
/// an empty profile name, which the PNG specification forbids (1 to 79
/// bytes) and libpng answers by dropping the profile ("iCCP: bad keyword").
/// Every other chunk, and whatever follows the last whole one, is copied as
/// it is.
std::vector<unsigned char> with_named_icc_chunk(const std::vector<unsigned char>& png);

}  // namespace fdiwn::detail
