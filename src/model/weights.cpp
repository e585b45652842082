// Reading fdiwn weights files and loading them strictly into the tree.
#include "fdiwn/weights.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>

#include <torch/types.h>
#include <torch/utils.h>

#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"
#include "formats/weights_format.hpp"

namespace fdiwn {

namespace {

// Far above any FDIWN file (about 3 MB); refuses to slurp a huge file that
// someone passed by mistake.
constexpr size_t kMaxFileBytes = size_t{512} << 20;

std::string shape_str(c10::IntArrayRef sizes) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < sizes.size(); ++i) os << (i ? ", " : "") << sizes[i];
  os << ']';
  return os.str();
}

std::vector<unsigned char> read_bytes(const std::string& path) {
  ReadLimits limits;
  limits.max_bytes = kMaxFileBytes;
  limits.max_bytes_reason =
      "an fdiwn weights file can be (" + std::to_string(kMaxFileBytes >> 20) + " MiB)";
  try {
    std::vector<unsigned char> bytes = read_file(path, limits);
    if (bytes.empty()) throw WeightsError(path, "the file is empty");
    return bytes;
  } catch (const FileError& e) {
    throw WeightsError(path, e.reason());
  }
}

// The index of the first value that is not finite, or -1.
int64_t first_non_finite(const float* values, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) return i;
  }
  return -1;
}

}  // namespace

const torch::Tensor* WeightsFile::find(const std::string& key) const {
  for (const auto& kv : tensors) {
    if (kv.first == key) return &kv.second;
  }
  return nullptr;
}

const torch::Tensor& WeightsFile::at(const std::string& key) const {
  if (const auto* t = find(key)) return *t;
  throw WeightsError(path, "missing key '" + key + "'");
}

int64_t WeightsFile::parameter_count() const {
  int64_t n = 0;
  for (const auto& kv : tensors) n += kv.second.numel();
  return n;
}

WeightsFile read_weights_file(const std::string& path) {
  const std::vector<unsigned char> bytes = read_bytes(path);
  // A legacy pickle (the authors' unconverted checkpoints) starts with the
  // pickle protocol byte instead of a zip header.
  if (bytes[0] == 0x80) {
    throw WeightsError(path,
                       "not an fdiwn weights file: this is a legacy PyTorch pickle (an "
                       "unconverted checkpoint?); convert it with scripts/convert_weights.py");
  }
  const RawWeights raw = parse_weights(bytes.data(), bytes.size(), path);

  WeightsFile file;
  file.path = path;
  file.scale = raw.scale;
  if (file.scale < 2 || file.scale > 4) {
    throw WeightsError(path, "scale x" + std::to_string(file.scale) +
                                 " is not supported (FDIWN has weights for x2, x3 and x4)");
  }
  file.source = raw.source;
  file.source_parameters = raw.source_parameters;
  for (const RawTensor& t : raw.tensors) {
    torch::Tensor tensor = torch::empty(t.shape, torch::TensorOptions().dtype(torch::kFloat32));
    // The file's bytes are little-endian float32, like this machine's.
    std::memcpy(tensor.data_ptr<float>(), t.data, static_cast<size_t>(t.numel) * sizeof(float));
    // A NaN or an infinity in a weight turns every output pixel into one.
    if (const int64_t at = first_non_finite(tensor.data_ptr<float>(), t.numel); at >= 0) {
      throw WeightsError(path, "key '" + t.name + "' holds a value that is not a finite number (" +
                                   std::to_string(tensor.data_ptr<float>()[at]) + " at index " +
                                   std::to_string(at) + ")");
    }
    file.tensors.emplace_back(t.name, std::move(tensor));
  }
  if (file.tensors.empty()) throw WeightsError(path, "the file holds no tensors");
  if (file.source_parameters == 0) file.source_parameters = file.parameter_count();
  return file;
}

FdiwnConfig config_from_weights(const WeightsFile& file) {
  const auto dim = [&](const std::string& key, int64_t d) {
    const auto& t = file.at(key);
    if (t.dim() <= d) {
      throw WeightsError(file.path, "key '" + key + "' has shape " + shape_str(t.sizes()) +
                                        ", expected a 4-D convolution weight");
    }
    return t.size(d);
  };
  FdiwnConfig cfg;
  cfg.scale = file.scale;
  cfg.n_feats = dim("head.weight", 0);
  cfg.wirw_expand = dim("Li1.MY1.srb1.body.0.weight", 0);
  cfg.wirw_squeeze = dim("Li1.MY1.srb1.body.2.weight", 0);
  cfg.wcrw_expand = dim("Li1.MY1.rb1.body.0.weight", 0);
  cfg.fusion_expand = dim("Li1.MY1.fuse1.body.0.weight", 0);
  cfg.tail_feats = dim("conv1.weight", 0);
  cfg.tail_from_shifted = cfg.scale == 4;
  // The attention and CoffConv units divide the trunk width by 12 and 8.
  if (cfg.n_feats != 24) {
    throw WeightsError(file.path, "key 'head.weight' has shape " +
                                      shape_str(file.at("head.weight").sizes()) +
                                      ", expected 24 output channels (FDIWN's trunk width)");
  }
  const int64_t up = dim("UP1.0.weight", 0);
  if (up != 3 * cfg.scale * cfg.scale) {
    throw WeightsError(file.path, "the file says x" + std::to_string(cfg.scale) +
                                      " but 'UP1.0.weight' has " + std::to_string(up) +
                                      " output channels, which is not 3*s*s for that scale");
  }
  return cfg;
}

void load_weights_strict(torch::nn::Module& model, const WeightsFile& file) {
  std::map<std::string, const torch::Tensor*> available;
  for (const auto& kv : file.tensors) available.emplace(kv.first, &kv.second);

  std::vector<std::string> problems;
  std::vector<std::pair<torch::Tensor, const torch::Tensor*>> copies;
  auto match = [&](const std::string& name, torch::Tensor& target) {
    auto it = available.find(name);
    if (it == available.end()) {
      problems.push_back("missing key '" + name + "' (expected shape " + shape_str(target.sizes()) +
                         ")");
      return;
    }
    if (it->second->sizes() != target.sizes()) {
      problems.push_back("key '" + name + "': expected shape " + shape_str(target.sizes()) +
                         ", found " + shape_str(it->second->sizes()));
    } else {
      copies.emplace_back(target, it->second);
    }
    available.erase(it);
  };
  for (auto& item : model.named_parameters(/*recurse=*/true)) match(item.key(), item.value());
  for (auto& item : model.named_buffers(/*recurse=*/true)) match(item.key(), item.value());
  for (const auto& kv : available) {
    problems.push_back("unexpected key '" + kv.first + "' (shape " + shape_str(kv.second->sizes()) +
                       ")");
  }

  if (!problems.empty()) {
    std::ostringstream os;
    os << "weights do not match the FDIWN x" << file.scale << " network: ";
    const size_t shown = std::min<size_t>(problems.size(), 10);
    for (size_t i = 0; i < shown; ++i) os << (i ? "; " : "") << problems[i];
    if (problems.size() > shown) os << "; and " << (problems.size() - shown) << " more";
    throw WeightsError(file.path, os.str());
  }

  torch::NoGradGuard no_grad;
  for (auto& c : copies) c.first.copy_(*c.second);
}

void require_scale(const WeightsFile& file, int64_t scale) {
  if (file.scale != scale) {
    throw WeightsError(file.path, "these weights are for x" + std::to_string(file.scale) +
                                      ", not x" + std::to_string(scale));
  }
}

FDIWN build_fdiwn(const WeightsFile& file) {
  FDIWN model(config_from_weights(file));
  load_weights_strict(*model, file);
  model->eval();
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  return model;
}

FDIWN load_fdiwn(const std::string& path, int64_t expected_scale) {
  WeightsFile file = read_weights_file(path);
  if (expected_scale != 0) require_scale(file, expected_scale);
  return build_fdiwn(file);
}

}  // namespace fdiwn
