// Parsing the command line's quantities: memory sizes and pixel counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fdiwn::cli {

/// "8G", "512M", "1.5GiB", "2000000000" (bytes), or "40%" of `available`.
/// Throws fdiwn::InvalidArgument with the text and what is expected.
std::size_t parse_memory_size(const std::string& text, std::size_t available);

/// "100M" (megapixels), "1e8", "250000000" or "10000x10000".
int64_t parse_pixel_count(const std::string& text);

/// "11.5 GiB", "640 MiB".
std::string format_bytes(std::size_t bytes);

}  // namespace fdiwn::cli
