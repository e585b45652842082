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
#include <functional>
#include <memory>
#include <string>

#include <opencv2/core/mat.hpp>

namespace fdiwn {

/// How an image is fed to the network.
enum class Mode {
  /// The whole image in one pass: the network's exact output.
  Whole,
  /// The authors' evaluation "chop": four overlapping quadrants (shave 10),
  /// recursively until each piece is under 160000 LR pixels. Reproduces the
  /// paper's numbers; bounds memory on large images.
  Chop,
  /// Whole when the estimated memory fits the budget; otherwise the same
  /// quadrant scheme with pieces as large as the budget allows.
  Auto,
};

/// "whole" / "chop" / "auto".
const char* to_string(Mode mode);

/// How the alpha channel of a 4-channel image is upscaled (the colour
/// always goes through the network).
enum class AlphaMode {
  Network,  ///< the network on the alpha replicated to 3 channels (a second pass)
  Bicubic,  ///< bicubic interpolation (fast)
};

const char* to_string(AlphaMode mode);

/// Which implementation of the network runs. Both compute the same
/// network and are tested against the authors' outputs.
enum class Path {
  Engine,  ///< the band-streaming engine compiled from the module tree (the default)
  Plain,   ///< the module tree op by op, as the paper's code: the readable reference
};

const char* to_string(Path path);

struct UpscalerOptions {
  int scale = 4;             ///< 2, 3 or 4
  std::string weights_path;  ///< empty: the bundled weights for `scale` (see default_weights_path)
  int threads = 0;           ///< threads each upscale() call runs on; 0: all cores
  Mode mode = Mode::Whole;
  bool tta = false;  ///< self-ensemble: average the 8 flips/transposes (8x the time)
  AlphaMode alpha = AlphaMode::Network;
  std::size_t memory_budget = 0;  ///< bytes Mode::Auto may use; 0: default_memory_budget()
  Path path = Path::Engine;
};

/// Called during upscale() with the fraction of the work done (0..1). It may
/// throw (for example fdiwn::Cancelled) to abandon the image.
using ProgressCallback = std::function<void(double fraction_done)>;

/// How upscale() will process an image.
struct RunPlan {
  Mode mode = Mode::Whole;     ///< Whole or Chop (never Auto)
  int pieces = 1;              ///< network runs per pass
  int passes = 1;              ///< colour passes (8 with TTA) + alpha passes
  int64_t largest_piece = 0;   ///< LR pixels of the largest piece
  std::size_t peak_bytes = 0;  ///< estimated peak memory
};

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
  cv::Mat upscale(const cv::Mat& image) const;
  cv::Mat upscale(const cv::Mat& image, Mode mode, const ProgressCallback& progress = {}) const;

  /// What upscale() would do with an image of `size` and `channels` (the
  /// alpha pass counted only if `alpha_varies`).
  RunPlan plan(cv::Size size, int channels, Mode mode, bool alpha_varies = true) const;

  /// Changes the budget Mode::Auto plans with (bytes; 0: the default), for
  /// callers that hold other images in memory at the same time.
  void set_memory_budget(std::size_t bytes);

  int scale() const;
  const UpscalerOptions& options() const;
  /// The weights file actually loaded (resolved if options had none).
  const std::string& weights_path() const;
  /// Parameters of the authors' checkpoint (before weight-norm folding), as
  /// the paper counts them.
  int64_t parameter_count() const;
  /// Multiply-adds of one network pass per LR pixel (every convolution,
  /// each group counted as often as it is applied).
  int64_t macs_per_pixel() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Where the bundled weights for `scale` are: $FDIWN_WEIGHTS_DIR if set,
/// else `<dir of the running binary>/../share/fdiwn/weights`, which holds in
/// both the build tree and an installed tree. Returns the path it would use
/// even if the file is missing (the loader then names it in its error).
std::string default_weights_path(int scale);

/// Threads the library uses when options ask for 0: the cores this process
/// may run on.
int default_thread_count();

/// Memory the system (or the cgroup this process runs in, if tighter) has
/// available now.
std::size_t available_memory();

/// Memory Mode::Auto may use when the options give no budget: half of
/// available_memory().
std::size_t default_memory_budget();

/// Version strings of the libraries fdiwn runs on.
std::string torch_version();
std::string opencv_version();

}  // namespace fdiwn
