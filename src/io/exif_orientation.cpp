// EXIF orientation applied to a decoded image. Kept apart from the prober,
// which must not depend on OpenCV.
#include <string>

#include <opencv2/core.hpp>

#include "fdiwn/errors.hpp"
#include "fdiwn/image_probe.hpp"

namespace fdiwn {

cv::Mat apply_exif_orientation(const cv::Mat& image, int orientation) {
  if (orientation < 1 || orientation > 8) {
    throw InvalidArgument("EXIF orientation " + std::to_string(orientation) + " is not in 1..8");
  }
  if (orientation == 1 || image.empty()) return image;
  // The same operations, in the same order, as OpenCV's ApplyExifOrientation
  // (imgcodecs, used for IMREAD_COLOR), so the result matches it exactly.
  // The tag names where row 0 and column 0 of the stored image are meant to
  // be seen: 2 top-right, 3 bottom-right, 4 bottom-left, 5 left-top,
  // 6 right-top, 7 right-bottom, 8 left-bottom.
  cv::Mat out;
  switch (orientation) {
    case 2:
      cv::flip(image, out, 1);
      break;  // mirror left-right
    case 3:
      cv::flip(image, out, -1);
      break;  // rotate 180
    case 4:
      cv::flip(image, out, 0);
      break;  // mirror top-bottom
    case 5:
      cv::transpose(image, out);
      break;
    case 6:  // rotate 90 clockwise
      cv::transpose(image, out);
      cv::flip(out, out, 1);
      break;
    case 7:  // transverse
      cv::transpose(image, out);
      cv::flip(out, out, -1);
      break;
    default:  // 8: rotate 90 counter-clockwise
      cv::transpose(image, out);
      cv::flip(out, out, 0);
      break;
  }
  return out;
}

}  // namespace fdiwn
