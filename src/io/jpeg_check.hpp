// libjpeg's word on a JPEG's image data. OpenCV's decoder shows libjpeg's
// warnings nowhere: a JPEG whose data stops early (a cut download with an
// end-of-image marker after it) decoded "whole", with a flat gray band
// where the data was missing (found by hand).
#pragma once

#include <string>
#include <vector>

namespace fdiwn::io {

struct JpegWarning {
  bool data_missing = false;  ///< the image data ends before its last block
  std::string message;        ///< libjpeg's first warning; empty: none
};

/// Reads `bytes` (a JPEG the prober accepted) through libjpeg at an eighth
/// of its size, which decodes all of its entropy-coded data but little
/// else, and returns the first warning libjpeg gave. A libjpeg error gives
/// no warning: the real decoder then answers for the file.
JpegWarning jpeg_data_warning(const std::vector<unsigned char>& bytes);

}  // namespace fdiwn::io
