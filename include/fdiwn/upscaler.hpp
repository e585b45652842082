// Upscaler: the small facade most callers need. Load the weights once, then
// call upscale() on as many images as you like.
//
//   fdiwn::Upscaler up({/*scale=*/4});
//   cv::Mat sr = up.upscale(cv::imread("in.png"));
//
// Tensors, colour order and rounding stay inside; this header does not pull
// in LibTorch.
#pragma once

#include <cstdint>
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
};

/// "whole" / "chop".
const char* to_string(Mode mode);

struct UpscalerOptions {
  int scale = 4;             ///< 2, 3 or 4
  std::string weights_path;  ///< empty: the bundled weights for `scale` (see default_weights_path)
  int threads = 0;           ///< intra-op threads; 0: all cores
  Mode mode = Mode::Whole;
  bool tta = false;  ///< self-ensemble: average the 8 flips/transposes (8x the time)
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

  /// Upscales a 3-channel BGR image by scale(). CV_8UC3 and CV_16UC3 give an
  /// image of the same depth (clamped, rounded to nearest); CV_32FC3 on the
  /// 0..255 range gives the network's unclamped float output. Anything else
  /// throws InvalidArgument.
  cv::Mat upscale(const cv::Mat& bgr) const;
  /// As above, with another mode than the one in the options.
  cv::Mat upscale(const cv::Mat& bgr, Mode mode) const;

  int scale() const;
  const UpscalerOptions& options() const;
  /// The weights file actually loaded (resolved if options had none).
  const std::string& weights_path() const;
  /// Parameters of the authors' checkpoint (before weight-norm folding), as
  /// the paper counts them.
  int64_t parameter_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Where the bundled weights for `scale` are: $FDIWN_WEIGHTS_DIR if set,
/// else `<dir of the running binary>/../share/fdiwn/weights`, which holds in
/// both the build tree and an installed tree. Returns the path it would use
/// even if the file is missing (the loader then names it in its error).
std::string default_weights_path(int scale);

/// Threads the library uses when options ask for 0: the machine's cores.
int default_thread_count();

}  // namespace fdiwn
