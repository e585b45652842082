// fdiwn weights files: reading, validation and strict loading.
//
// A weights file is written by scripts/convert_weights.py: PyTorch's zip
// format holding {"format": "fdiwn-weights", "version": 1, "scale": s,
// "source": ..., "source_parameters": n, "tensors": {name: float32 tensor}},
// with weight normalisation already folded. Loading is strict: every
// parameter of the module tree must be in the file with the same shape and
// every tensor of the file must be used, or nothing is loaded.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>

#include "fdiwn/export.hpp"
#include "fdiwn/model.hpp"

FDIWN_API_BEGIN
namespace fdiwn {

/// The content of a weights file, validated for structure (not yet matched
/// against a network).
struct WeightsFile {
  std::string path;
  int64_t scale = 0;
  std::string source;             ///< the checkpoint it was converted from
  int64_t source_parameters = 0;  ///< parameter count before folding (the paper's count)
  std::vector<std::pair<std::string, torch::Tensor>> tensors;  ///< in file order

  /// The tensor stored under `key`, or nullptr.
  const torch::Tensor* find(const std::string& key) const;
  /// The tensor stored under `key`; throws WeightsError naming the key if absent.
  const torch::Tensor& at(const std::string& key) const;
  /// Number of values in all tensors (the folded network's parameter count).
  int64_t parameter_count() const;
};

/// Reads and validates a weights file. Throws WeightsError (naming the file
/// and the reason) if it is missing, unreadable, empty, truncated, not a zip
/// archive, not a fdiwn weights file, of an unknown version, for a scale
/// other than 2/3/4, or holds anything but float32 tensors.
WeightsFile read_weights_file(const std::string& path);

/// The network widths a weights file describes, read from its shapes.
FdiwnConfig config_from_weights(const WeightsFile& file);

/// Copies the file's tensors into `model`'s parameters and buffers by name.
/// Throws WeightsError listing every missing key, unexpected key and shape
/// mismatch (expected and found shapes) before touching any parameter.
void load_weights_strict(torch::nn::Module& model, const WeightsFile& file);

/// Throws WeightsError unless `file` holds weights for `scale`.
void require_scale(const WeightsFile& file, int64_t scale);

/// A ready FDIWN (eval mode, no gradients) holding `file`'s weights.
FDIWN build_fdiwn(const WeightsFile& file);

/// read_weights_file + require_scale (if `expected_scale` is non-zero) + build_fdiwn.
FDIWN load_fdiwn(const std::string& path, int64_t expected_scale = 0);

}  // namespace fdiwn
FDIWN_API_END
