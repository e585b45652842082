// Upscaler: the small facade most callers need. Load the weights once, then
// call upscale() on as many images as you like.
//
//   fdiwn::UpscalerOptions options;
//   options.scale = 4;
//   fdiwn::Upscaler up(options);
//   cv::Mat sr = up.upscale(cv::imread("in.png", cv::IMREAD_UNCHANGED));
//
// Tensors, colour order, alpha and rounding stay inside; this header does not
// pull in LibTorch. An Upscaler is not meant to be used from several threads
// at once; separate Upscalers may run on separate threads side by side (each
// call uses its own options' thread count, see upscale()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <opencv2/core/mat.hpp>

#include "fdiwn/export.hpp"
#include "fdiwn/options.hpp"

FDIWN_API_BEGIN
namespace fdiwn {

class Upscaler {
 public:
  /// Loads and checks the weights. Throws WeightsError if they cannot be
  /// loaded or are for another scale, InvalidArgument for a bad option.
  explicit Upscaler(const UpscalerOptions& options);
  ~Upscaler();
  Upscaler(Upscaler&&) noexcept;
  Upscaler& operator=(Upscaler&&) noexcept;
  Upscaler(const Upscaler&) = delete;
  Upscaler& operator=(const Upscaler&) = delete;

  /// Upscales by scale(). Accepts 1 (gray), 3 (BGR) or 4 (BGRA) channels of
  /// 8-bit or 16-bit pixels and returns the same kind (clamped, rounded to
  /// nearest), or float pixels on the 0..255 range, returned unclamped.
  /// Gray goes through the network as R=G=B and comes back as luma; alpha
  /// is upscaled as options().alpha says (a constant alpha stays constant).
  /// Throws InvalidArgument for other types or an empty image.
  ///
  /// Runs on options().threads threads: for the call, the calling thread's
  /// OpenMP thread count (which LibTorch and oneDNN follow) is set to that
  /// and restored on return. Nothing process-wide changes: other threads,
  /// and the calling thread after the call, keep their own count.
  ///
  /// The engine keeps the memory of its feature maps (up to ~1 KB per LR
  /// pixel) from one call to the next while images keep their size, and
  /// gives it back when a call brings another size, release_memory() is
  /// called or the Upscaler goes.
  cv::Mat upscale(const cv::Mat& image) const;
  cv::Mat upscale(const cv::Mat& image, Mode mode, const ProgressCallback& progress = {}) const;

  /// What upscale() would do with an image of `size` and `channels` (the
  /// alpha pass counted only if `alpha_varies`).
  RunPlan plan(cv::Size size, int channels, Mode mode, bool alpha_varies = true) const;

  /// Changes the budget Mode::Auto plans with (bytes; 0: the default), for
  /// callers that hold other images in memory at the same time.
  void set_memory_budget(std::size_t bytes);
  /// Gives back all the feature maps kept from the last call now (the next
  /// call maps them afresh), for callers that need the memory between
  /// images.
  void release_memory();
  /// Changes the threads later upscale() calls run on (0: all cores), as
  /// options().threads. Throws InvalidArgument for a negative count.
  void set_threads(int threads);

  int scale() const;
  /// The threads each upscale() call runs on: options().threads, or all
  /// cores (default_thread_count()) for 0.
  int threads() const;
  const UpscalerOptions& options() const;
  /// The weights file actually loaded (resolved if options had none).
  const std::string& weights_path() const;
  /// Parameters of the authors' checkpoint (before weight-norm folding), as
  /// the paper counts them.
  int64_t parameter_count() const;
  /// Multiply-adds of one network pass per LR pixel (every convolution,
  /// each group counted as often as it is applied).
  int64_t macs_per_pixel() const;
  /// Convolution output elements of one network pass per LR pixel (the
  /// NTIRE challenge's "activations"), counted as macs_per_pixel().
  int64_t activations_per_pixel() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The least memory budget (UpscalerOptions::memory_budget) Mode::Auto can
/// run images at `scale` on `path` in: the libraries, the weights and a
/// 64x64 colour image, the smallest piece it splits an image into. Below it
/// every image that size or larger fails with InsufficientMemory; a large
/// image needs more for its input and output.
std::size_t least_memory_budget(Path path, int scale);

}  // namespace fdiwn
FDIWN_API_END
