// The file names of the formats fdiwn reads and writes: one table
// (image_formats.cpp) for folder scans, output names and `fdiwn info`.
// Private to the io layer.
#pragma once

#include <initializer_list>
#include <string>

namespace fdiwn::io {

/// "JPG", ".jpg" -> "jpg".
std::string normalise_extension(std::string ext);

/// True if `ext` is one of `list`.
bool one_of(const std::string& ext, std::initializer_list<const char*> list);

/// True if files named `*.ext` are read (`ext` lower case, without the dot);
/// formats refused from their content (HDR, EXR) count, so that a folder's
/// such file gets its reason instead of being passed over.
bool reads_extension(const std::string& ext);

/// True if files named `*.ext` are written (AVIF: where libheif has an AV1
/// encoder).
bool writes_extension(const std::string& ext);

}  // namespace fdiwn::io
