// The engine's passes: each unit of the network as a few parallel loops over
// bands (bands.hpp), one per global statistic the unit waits for. A pass
// reads its inputs' rows once (with the halo rows its 3x3 kernels reach),
// applies the previous unit's gate as it reads, runs the unit's 1x1 pair and
// 3x3 on the band in cache, and writes its output rows once, gathering the
// statistics the next gate needs. Only maps that must outlive a statistic
// are materialised (feature_map.hpp).
#pragma once

#include "engine/bands.hpp"
#include "engine/feature_map.hpp"
#include "engine/kernels.hpp"

namespace fdiwn::engine {

/// What every pass of one image needs.
struct Pass {
  const Frame& frame;
  MapPool& pool;
};

/// A 24-channel map with the statistics of its values.
struct Features {
  Map map;
  Stats stats;
};

/// out (rows `band`) = spatial(squeeze(expand_relu(in))), `in` holding rows
/// frame.around(band, 1): a WIRW/WCRW body, its wide intermediate in cache.
void run_body(const BodyKernels& body, const float* in, Span in_rows, Span band, const Frame& frame,
              float* out, Scratch& scratch);

/// A WIRW's body on x, and the gates of its attention (one pass).
Map wirw_body(const WirwKernels& k, const Pass& p, const Map& x, Gates& gates);

/// WIRW(x) as a map of its own (the engine fuses it into its neighbours;
/// this is its parity check).
Features wirw(const WirwKernels& k, const Pass& p, const Features& x);
/// WCRW(x) for a map of any width (parity check, as above).
Features wcrw(const WcrwKernels& k, const Pass& p, const Map& x);
/// WDIB(x).
Features wdib(const WdibKernels& k, const Pass& p, const Features& x);
/// d + FSWG(d) (or FSWG(d) if !add_input), written over d.
void fswg(const FswgKernels& k, const Pass& p, Features& d, bool add_input);

}  // namespace fdiwn::engine
