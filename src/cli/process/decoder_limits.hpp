// A second line of defence behind the header checks: OpenCV's own limit on
// the pixels a decoder may allocate, set to --max-pixels. Should a decoder
// ever read a header differently from fdiwn's prober (a TIFF directory with
// a duplicate tag did), it refuses the image instead of allocating it.
#pragma once

#include <cstdint>

namespace fdiwn::cli {

/// Sets OPENCV_IO_MAX_IMAGE_PIXELS (process-wide; OpenCV reads it at its
/// first decode, so call this before any) to `max_pixels`, unless the user
/// set it. OpenCV's default is 2^30.
void cap_decoded_pixels(int64_t max_pixels);

}  // namespace fdiwn::cli
