#include "chop_geometry.hpp"

#include <algorithm>

namespace fdiwn {

namespace {

// `origin`/`size`: the crop being chopped (absolute LR coordinates);
// `region`: the output pixels this crop is responsible for (absolute).
void chop(cv::Point origin, cv::Size size, cv::Rect region, int scale, int64_t min_size, int shave,
          std::vector<ChopPiece>& out) {
  const int h = size.height, w = size.width;
  const int h_half = h / 2, w_half = w / 2;
  const int h_size = std::min(h_half + shave, h), w_size = std::min(w_half + shave, w);
  const int64_t crop_area = static_cast<int64_t>(h_size) * w_size;
  // A crop that no longer shrinks (under 2*shave pixels each way) is run as
  // it is, whatever min_size says, so the recursion always ends.
  const bool leaf = crop_area < min_size || crop_area >= static_cast<int64_t>(h) * w;
  for (int i = 0; i < 4; ++i) {
    const bool bottom = i / 2 == 1, right = i % 2 == 1;
    const cv::Point crop_origin(origin.x + (right ? w - w_size : 0),
                                origin.y + (bottom ? h - h_size : 0));
    // The quadrant of this crop's output that the reference copies from
    // this child: split at scale*h_half, scale*w_half.
    const cv::Rect quadrant(scale * origin.x + (right ? scale * w_half : 0),
                            scale * origin.y + (bottom ? scale * h_half : 0),
                            right ? scale * (w - w_half) : scale * w_half,
                            bottom ? scale * (h - h_half) : scale * h_half);
    const cv::Rect child_region = quadrant & region;
    if (child_region.empty()) continue;
    if (leaf) {
      out.push_back({cv::Rect(crop_origin, cv::Size(w_size, h_size)), child_region});
    } else {
      chop(crop_origin, cv::Size(w_size, h_size), child_region, scale, min_size, shave, out);
    }
  }
}

}  // namespace

std::vector<ChopPiece> chop_pieces(cv::Size size, int scale, int64_t min_size, int shave) {
  std::vector<ChopPiece> pieces;
  if (size.empty()) return pieces;
  chop(cv::Point(0, 0), size, cv::Rect(0, 0, size.width * scale, size.height * scale), scale,
       min_size, shave, pieces);
  return pieces;
}

std::vector<ChopPiece> whole_piece(cv::Size size, int scale) {
  return {
      {cv::Rect(cv::Point(0, 0), size), cv::Rect(0, 0, size.width * scale, size.height * scale)}};
}

int64_t largest_crop(const std::vector<ChopPiece>& pieces) {
  int64_t most = 0;
  for (const auto& p : pieces) most = std::max<int64_t>(most, int64_t{p.crop.area()});
  return most;
}

}  // namespace fdiwn
