// The engine: FDIWN compiled from a loaded module tree into band-streaming
// passes (passes.hpp) over oneDNN kernels (kernels.hpp). Same pixels as the
// module tree's plain forward; a fraction of its time and memory.
#pragma once

#include <functional>
#include <memory>

#include <torch/types.h>

namespace fdiwn {
struct FDIWNImpl;
}

namespace fdiwn::engine {

struct NetworkKernels;
struct WirwKernels;
struct WcrwKernels;
struct WdibKernels;
struct FswgKernels;

class Engine {
 public:
  /// Compiles the network's kernels (its parameters are copied: the model
  /// may go away).
  explicit Engine(const FDIWNImpl& model);
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;

  /// x: N x 3 x H x W RGB in [0, 255]; returns N x 3 x sH x sW, unclamped,
  /// as FDIWNImpl::forward. `after_group` is called after each of the six
  /// group applications (progress, or abandoning the pass by throwing).
  /// Runs on LibTorch's intra-op threads, bands shared between them.
  torch::Tensor forward(const torch::Tensor& x,
                        const std::function<void()>& after_group = nullptr) const;

  /// Gives back the feature maps kept for the next image; with `keep_small`,
  /// apart from up to 64 MiB of them (a batch of small images of one size
  /// then faults in no fresh pages after its first; they are dropped before
  /// an image of another size). More would add to the process's peak while
  /// the caller decodes, scores or writes between images.
  void release_memory(bool keep_small = true) const;

  const NetworkKernels& kernels() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One unit through the engine's passes, on N x C x H x W tensors (any
/// layout): the per-unit parity checks against the module tree.
torch::Tensor run_unit(const WirwKernels& k, const torch::Tensor& x);
torch::Tensor run_unit(const WcrwKernels& k, const torch::Tensor& x);
torch::Tensor run_unit(const WdibKernels& k, const torch::Tensor& x);
torch::Tensor run_unit(const FswgKernels& k, const torch::Tensor& x);

}  // namespace fdiwn::engine
