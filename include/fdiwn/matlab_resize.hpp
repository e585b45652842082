// Matlab-compatible bicubic resizing, the way SR benchmarks make their LR
// images (Prepare_TestData_HR_LR.m: mod-crop, then imresize(HR, 1/s,
// 'bicubic')). OpenCV's INTER_CUBIC is a different filter (a = -0.75, no
// antialiasing), so the paper's LR images cannot be reproduced with
// cv::resize. No LibTorch here: OpenCV core only.
#pragma once

#include <opencv2/core/mat.hpp>
#include "fdiwn/export.hpp"

FDIWN_API_BEGIN
namespace fdiwn {

/// Drops the last `rows % scale` rows and `cols % scale` columns so that both
/// sides are multiples of `scale` (the "mod-crop" of the benchmark scripts).
///
/// Returns a VIEW into `img` (no copy: it shares the pixels, so writing to it
/// writes to `img`); call .clone() for an independent image.
/// Throws InvalidArgument if `img` is empty, `scale` < 1 or an image side is
/// smaller than `scale` (nothing would be left).
cv::Mat mod_crop(const cv::Mat& img, int scale);

/// How matlab_imresize() reads beyond the image border.
enum class ResizeBorder {
  /// Matlab's rule (imresize.m, contributions(): "Clamp out-of-range
  /// indices; has the effect of replicating end-points"). The default: the
  /// benchmark's Matlab-made LR files are reproduced bit for bit with it.
  kReplicate,
  /// Symmetric ("half-sample") mirroring, index 0 reads sample 1: what
  /// Python ports such as BasicSR's imresize do. Differs from Matlab in the
  /// outermost one or two output pixels (by up to ~10 levels).
  kSymmetric,
};

/// The interpolation kernels of Matlab's imresize (used for SR baselines).
enum class ResizeKernel {
  kBicubic,   ///< 'bicubic': Keys, a = -0.5, 4 taps
  kBilinear,  ///< 'bilinear': the triangle, 2 taps
  kNearest,   ///< 'nearest': the box, 1 tap, never antialiased (as Matlab)
  kLanczos3,  ///< 'lanczos3': sinc(x) sinc(x/3), 6 taps
};

/// Matlab's `imresize(img, scale, 'bicubic')` (antialiasing on, the default).
///
/// - Keys cubic kernel with a = -0.5; when shrinking (scale < 1) the kernel
///   is stretched by 1/scale and scaled by `scale` (antialiasing).
/// - Output pixel x (1-based) samples the input at u = x/scale +
///   0.5*(1 - 1/scale); weights are normalised to sum 1 per output pixel.
/// - Borders: see ResizeBorder (Matlab replicates the edge pixels).
/// - Separable: one pass per dimension, the dimension with the smaller scale
///   first; here both scales are equal, so rows (the height) go first, as in
///   Matlab.
/// - CV_8U: each pass is rounded (x.5 away from zero) and saturated to uint8,
///   as Matlab does for uint8 images. CV_32F / CV_64F: each pass is stored in
///   the input type without rounding or clamping.
///
/// The output has the input's type and ceil(rows*scale) x ceil(cols*scale)
/// pixels. Any number of channels from 1 to 4 (each is resized on its own,
/// so BGR vs RGB order does not matter).
/// Throws InvalidArgument for an empty image, another depth, more than 4
/// channels, a scale that is not finite and > 0, an absurdly small scale
/// (below 4e-6) or an absurdly large output.
cv::Mat matlab_imresize(const cv::Mat& src, double scale,
                        ResizeBorder border = ResizeBorder::kReplicate);

/// The same with another of imresize's kernels (`imresize(img, scale,
/// 'lanczos3')`...): each kernel's formula and width as imresize.m writes
/// them, antialiased when shrinking except for kNearest, the same rounding,
/// borders and errors.
cv::Mat matlab_imresize(const cv::Mat& src, double scale, ResizeKernel kernel,
                        ResizeBorder border = ResizeBorder::kReplicate);

}  // namespace fdiwn
FDIWN_API_END
