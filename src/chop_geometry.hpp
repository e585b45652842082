// The geometry of the reference "chop" (EDSR's forward_chop), computed ahead
// of running anything, so that each piece's result can be written straight
// into the output image instead of being assembled recursively in memory.
#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core/types.hpp>

namespace fdiwn {

/// One network run: the LR crop it sees and the part of the (s-times larger)
/// output it is responsible for, both in absolute image coordinates.
struct ChopPiece {
  cv::Rect crop;    ///< LR pixels fed to the network
  cv::Rect output;  ///< output pixels taken from this run (inside scale * crop)
};

/// The reference chop on an LR image of `size`: four corner crops of
/// (h/2 + shave) x (w/2 + shave); a crop of `min_size` pixels or more is
/// chopped again. Every output pixel belongs to exactly one piece, and it is
/// the piece the recursive reference would copy it from. Crops are clamped
/// to the image, which only matters below 2*shave pixels.
std::vector<ChopPiece> chop_pieces(cv::Size size, int scale, int64_t min_size, int shave = 10);

/// A single piece covering the whole image.
std::vector<ChopPiece> whole_piece(cv::Size size, int scale);

/// The largest crop (in pixels) chop_pieces would run.
int64_t largest_crop(const std::vector<ChopPiece>& pieces);

}  // namespace fdiwn
