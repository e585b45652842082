// The library's vocabulary: how an image is fed to the network (Mode), how
// its alpha is upscaled (AlphaMode), which implementation runs (Path), their
// names, the options an Upscaler is made with and the plan it reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include "fdiwn/export.hpp"

FDIWN_API_BEGIN
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

/// The value named `name`, as to_string() writes it; throws InvalidArgument
/// naming the choices otherwise.
Mode parse_mode(const std::string& name);
AlphaMode parse_alpha_mode(const std::string& name);
Path parse_path(const std::string& name);

/// Every value, in the order --help lists them.
inline constexpr Mode kModes[] = {Mode::Auto, Mode::Whole, Mode::Chop};
inline constexpr AlphaMode kAlphaModes[] = {AlphaMode::Network, AlphaMode::Bicubic};
inline constexpr Path kPaths[] = {Path::Engine, Path::Plain};

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

}  // namespace fdiwn
FDIWN_API_END
