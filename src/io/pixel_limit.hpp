// How the --max-pixels limit is said, for every reader that checks it (the
// image reader, the HEIF decoder, the frame stream): one message, with the
// size and the limit.
#pragma once

#include <cstdint>
#include <string>

namespace fdiwn {

/// "12.3 MP", or "1,024 pixels" for counts too small for megapixels to say.
std::string pixel_count(int64_t pixels);

/// "the `what` is 64x48 (3,072 pixels), more than the 3,000 pixels allowed
/// (--max-pixels)".
std::string too_many_pixels(const char* what, int64_t width, int64_t height, int64_t max_pixels);

}  // namespace fdiwn
