// Bands: the engine's unit of work. An image is cut into bands of whole
// rows, sized so that one band's working set stays in a core's L2 cache;
// every pass of the engine is one parallel loop over the bands, and a thread
// takes the next band when it finishes one (a thread that the OS sets aside
// delays one band, not a share fixed in advance).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace fdiwn::engine {

/// Rows [lo, hi) of an image.
struct Span {
  int64_t lo = 0, hi = 0;
  int64_t rows() const { return hi - lo; }
};

/// The bands of one image of height x width pixels.
struct Frame {
  int64_t height = 0, width = 0;
  int64_t band_rows = 0, bands = 0;

  Span band(int64_t b) const { return {b * band_rows, std::min(height, (b + 1) * band_rows)}; }
  /// `s` widened by `halo` rows each side, clipped to the image.
  Span around(Span s, int64_t halo) const {
    return {std::max<int64_t>(0, s.lo - halo), std::min(height, s.hi + halo)};
  }
  int64_t pixels() const { return height * width; }
};

/// Bands for an image: about 10,240 pixels each (a working set near the L2
/// cache's size), at least 16 rows (so that halo rows cost little; down to 8
/// where that shares the rows more evenly between threads) unless the image
/// is smaller, and at least two per thread where the image allows (so that
/// threads finish together).
Frame make_frame(int64_t height, int64_t width, int threads);

/// Per-thread scratch memory for the band being worked on: bump allocation,
/// all of it given back by reset() before the next band. Blocks are kept
/// between bands and images, so after the first band nothing is allocated.
class Scratch {
 public:
  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  /// `count` floats, 64-byte aligned, uninitialised.
  float* take(int64_t count);
  void reset();

 private:
  struct Block;
  std::vector<std::unique_ptr<Block>> blocks_;
  std::size_t used_ = 0;
};

/// Runs fn(band, scratch) for every band, on all threads, each thread with
/// its own scratch; rethrows the first exception of any band.
void run_bands(const Frame& frame, const std::function<void(int64_t, Scratch&)>& fn);

/// Mean and population variance of each channel (at most 48) of an image.
struct Stats {
  std::array<double, 48> mean{}, var{};
};

/// Sums and sums of squares gathered per band, folded into Stats at the end
/// (in band order: the result does not depend on which thread ran which).
class BandStats {
 public:
  BandStats(const Frame& frame, int channels);
  /// Adds `count` pixels of `channels` dense values at `p` to band b's sums.
  void add(int64_t b, const float* p, int64_t count);
  Stats finish() const;

 private:
  int64_t pixels_;
  int channels_;
  std::vector<double> sum_, sq_;  // bands x channels
};

}  // namespace fdiwn::engine
