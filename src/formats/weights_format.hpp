// Parsing fdiwn weights files without LibTorch: a bounds-checked reader for
// the subset of PyTorch's zip serialisation that scripts/convert_weights.py
// writes (a stored zip archive; a protocol-2 pickle of a dict of strings,
// integers and float32 tensors).
//
// Why not torch::pickle_load: it trusts its input (LibTorch 1.13's unpickler
// reads past its stack on malformed data), and a weights file is user input.
// Everything here checks offsets and sizes against the file before use, never
// recurses on file content, and fails with fdiwn::WeightsError only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fdiwn {

/// A tensor of the file: its shape and its float32 values, which point into
/// the buffer the file was parsed from.
struct RawTensor {
  std::string name;
  std::vector<int64_t> shape;
  const unsigned char* data = nullptr;  ///< little-endian float32, row-major
  int64_t numel = 0;
};

struct RawWeights {
  int64_t scale = 0;
  std::string source;
  int64_t source_parameters = 0;
  std::vector<RawTensor> tensors;  ///< in file order
};

/// Parses a weights file's bytes (which must outlive the result). Throws
/// WeightsError(path, reason) for anything that is not a well-formed fdiwn
/// weights file: not a zip, truncated, an unsupported pickle, a missing or
/// mistyped entry, a tensor that is not float32 or does not fit its storage.
RawWeights parse_weights(const unsigned char* data, std::size_t size, const std::string& path);

}  // namespace fdiwn
