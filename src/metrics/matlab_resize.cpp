// Matlab-compatible bicubic resize (imresize.m with its contributions() and
// cubic() helpers). Every arithmetic step follows imresize.m in the same
// order and in double precision, because the benchmark LR images are uint8
// and a different rounding of a weight can flip a value that lies on .5.
// With the default border rule (clamped indices, as imresize.m does) this
// reproduces the benchmark's Matlab-made Set5 and Urban100 LR files bit for
// bit; symmetric mirroring, which Python ports use and some write-ups
// describe, misses the outermost pixels by a few levels.
#include "fdiwn/matlab_resize.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "fdiwn/errors.hpp"

namespace fdiwn {

namespace {

// Keys' cubic convolution kernel with a = -0.5, written as imresize.m's
// cubic() writes it (same products, same order).
double cubic(double x) {
  const double absx = std::abs(x);
  const double absx2 = absx * absx;
  const double absx3 = absx2 * absx;
  double f = 0.0;
  if (absx <= 1.0) {
    f = 1.5 * absx3 - 2.5 * absx2 + 1.0;
  } else if (absx <= 2.0) {
    f = -0.5 * absx3 + 2.5 * absx2 - 4.0 * absx + 2.0;
  }
  return f;
}

// imresize.m's box(), triangle() and lanczos3(), term for term (lanczos3
// adds eps to both sides of its quotient, so that x = 0 gives 1).
double box(double x) {
  return (-0.5 <= x && x < 0.5) ? 1.0 : 0.0;
}
double triangle(double x) {
  return (x + 1.0) * ((-1.0 <= x && x < 0.0) ? 1.0 : 0.0) +
         (1.0 - x) * ((0.0 <= x && x <= 1.0) ? 1.0 : 0.0);
}
double lanczos3(double x) {
  constexpr double kPi = 3.141592653589793;
  constexpr double kEps = 2.220446049250313e-16;  // Matlab's eps
  const double f =
      (std::sin(kPi * x) * std::sin(kPi * x / 3.0) + kEps) / ((kPi * kPi * (x * x) / 3.0) + kEps);
  return std::abs(x) < 3.0 ? f : 0.0;
}

struct KernelShape {
  double (*f)(double);
  double width;
  bool antialias;  // imresize.m: on for every kernel but 'nearest'
};

KernelShape shape_of(ResizeKernel kernel) {
  switch (kernel) {
    case ResizeKernel::kNearest:
      return {box, 1.0, false};
    case ResizeKernel::kBilinear:
      return {triangle, 2.0, true};
    case ResizeKernel::kLanczos3:
      return {lanczos3, 6.0, true};
    case ResizeKernel::kBicubic:
      break;
  }
  return {cubic, 4.0, true};
}

// For one dimension: which input samples (0-based, already mapped into the image) each
// output sample reads, with which weights. `taps` values per output sample.
struct Contributions {
  int taps = 0;
  std::vector<int> index;      // out_length * taps
  std::vector<double> weight;  // out_length * taps
};

// Maps a 1-based, possibly out-of-range input index to a 0-based sample.
int border_index(long long one_based, int n, ResizeBorder border) {
  if (border == ResizeBorder::kReplicate) {
    return static_cast<int>(std::min<long long>(std::max<long long>(one_based, 1), n) - 1);
  }
  // The sequence 1..n, n..1 repeated: index 0 reads sample 1 and index n+1
  // reads sample n ("half-sample" mirroring).
  const long long period = 2LL * n;
  long long m = (one_based - 1) % period;
  if (m < 0) m += period;
  return static_cast<int>(m < n ? m : period - 1 - m);
}

Contributions contributions(int in_length, int out_length, double scale, KernelShape kernel,
                            ResizeBorder border) {
  const bool stretch = scale < 1.0 && kernel.antialias;
  double kernel_width = kernel.width;
  if (stretch) kernel_width = kernel_width / scale;
  // The kernel, stretched when shrinking so that it also low-passes.
  auto h = [&](double x) { return stretch ? scale * kernel.f(scale * x) : kernel.f(x); };

  const int p = static_cast<int>(std::ceil(kernel_width)) + 2;
  std::vector<double> weights(static_cast<size_t>(out_length) * p);
  std::vector<long long> indices(weights.size());
  for (int x = 1; x <= out_length; ++x) {
    const double u = x / scale + 0.5 * (1.0 - 1.0 / scale);
    const long long left = static_cast<long long>(std::floor(u - kernel_width / 2.0));
    double* w = &weights[static_cast<size_t>(x - 1) * p];
    long long* ind = &indices[static_cast<size_t>(x - 1) * p];
    double sum = 0.0;
    for (int j = 0; j < p; ++j) {
      ind[j] = left + j;
      w[j] = h(u - static_cast<double>(ind[j]));
      sum += w[j];
    }
    // Matlab divides (bsxfun(@rdivide, ...)); a multiplication by 1/sum
    // would round differently.
    for (int j = 0; j < p; ++j) w[j] = w[j] / sum;
  }

  // Like Matlab, drop the tap columns whose weight is zero for every output
  // sample. It changes no value, but keeps the same taps in the same order.
  std::vector<int> kept;
  for (int j = 0; j < p; ++j) {
    for (int x = 0; x < out_length; ++x) {
      if (weights[static_cast<size_t>(x) * p + j] != 0.0) {
        kept.push_back(j);
        break;
      }
    }
  }

  Contributions c;
  c.taps = static_cast<int>(kept.size());
  c.index.reserve(static_cast<size_t>(out_length) * c.taps);
  c.weight.reserve(c.index.capacity());
  for (int x = 0; x < out_length; ++x) {
    for (int j : kept) {
      const size_t k = static_cast<size_t>(x) * p + j;
      c.index.push_back(border_index(indices[k], in_length, border));
      c.weight.push_back(weights[k]);
    }
  }
  return c;
}

// Conversion of a pass's double result to the image type: uint8 rounds
// half away from zero (Matlab's rule; cv::saturate_cast rounds half to
// even) and saturates; floating types keep the value.
template <typename T>
T store(double v);
template <>
uchar store<uchar>(double v) {
  if (!(v > 0.0)) return 0;  // also NaN, as Matlab's uint8() does
  if (v >= 255.0) return 255;
  return static_cast<uchar>(std::round(v));
}
template <>
float store<float>(double v) {
  return static_cast<float>(v);
}
template <>
double store<double>(double v) {
  return v;
}

// Resizes along the rows (changes the height). Each output row is a
// weighted sum of whole input rows, accumulated tap by tap in Matlab's order.
template <typename T>
void pass_rows(const cv::Mat& in, cv::Mat& out, const Contributions& c) {
  const int n = in.cols * in.channels();
  std::vector<double> acc(static_cast<size_t>(n));
  for (int y = 0; y < out.rows; ++y) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int k = 0; k < c.taps; ++k) {
      const size_t t = static_cast<size_t>(y) * c.taps + k;
      const double w = c.weight[t];
      const T* src = in.ptr<T>(c.index[t]);
      for (int e = 0; e < n; ++e) acc[e] += w * static_cast<double>(src[e]);
    }
    T* dst = out.ptr<T>(y);
    for (int e = 0; e < n; ++e) dst[e] = store<T>(acc[e]);
  }
}

// Resizes along the columns (changes the width), channel by channel.
template <typename T>
void pass_cols(const cv::Mat& in, cv::Mat& out, const Contributions& c) {
  const int ch = in.channels();
  for (int y = 0; y < out.rows; ++y) {
    const T* src = in.ptr<T>(y);
    T* dst = out.ptr<T>(y);
    for (int x = 0; x < out.cols; ++x) {
      const int* idx = &c.index[static_cast<size_t>(x) * c.taps];
      const double* w = &c.weight[static_cast<size_t>(x) * c.taps];
      for (int k = 0; k < ch; ++k) {
        double acc = 0.0;
        for (int t = 0; t < c.taps; ++t) {
          acc += w[t] * static_cast<double>(src[static_cast<size_t>(idx[t]) * ch + k]);
        }
        dst[static_cast<size_t>(x) * ch + k] = store<T>(acc);
      }
    }
  }
}

template <typename T>
cv::Mat resize_typed(const cv::Mat& src, double scale, int out_rows, int out_cols,
                     KernelShape kernel, ResizeBorder border) {
  // Matlab sorts the dimensions by scale (stable) and resizes the smallest
  // first; with one scale for both that is dimension 1, the rows.
  cv::Mat tmp(out_rows, src.cols, src.type());
  pass_rows<T>(src, tmp, contributions(src.rows, out_rows, scale, kernel, border));
  cv::Mat out(out_rows, out_cols, src.type());
  pass_cols<T>(tmp, out, contributions(src.cols, out_cols, scale, kernel, border));
  return out;
}

int output_length(int in_length, double scale, const char* what) {
  const double length = std::ceil(static_cast<double>(in_length) * scale);
  // Far beyond any real image, and keeps every index computation in range.
  if (length > (1 << 20)) {
    throw InvalidArgument("matlab_imresize: the output " + std::string(what) + " " +
                          std::to_string(length) + " is too large (input " +
                          std::to_string(in_length) + ", scale " + std::to_string(scale) + ")");
  }
  return static_cast<int>(length);
}

}  // namespace

cv::Mat mod_crop(const cv::Mat& img, int scale) {
  if (img.empty()) throw InvalidArgument("mod_crop: the image is empty");
  if (scale < 1)
    throw InvalidArgument("mod_crop: scale must be >= 1, got " + std::to_string(scale));
  if (img.rows < scale || img.cols < scale) {
    throw InvalidArgument("mod_crop: a " + std::to_string(img.cols) + "x" +
                          std::to_string(img.rows) + " image is smaller than the scale " +
                          std::to_string(scale));
  }
  return img(cv::Rect(0, 0, img.cols - img.cols % scale, img.rows - img.rows % scale));
}

cv::Mat matlab_imresize(const cv::Mat& src, double scale, ResizeBorder border) {
  return matlab_imresize(src, scale, ResizeKernel::kBicubic, border);
}

cv::Mat matlab_imresize(const cv::Mat& src, double scale, ResizeKernel kernel,
                        ResizeBorder border) {
  if (src.empty()) throw InvalidArgument("matlab_imresize: the image is empty");
  if (!std::isfinite(scale) || scale <= 0.0) {
    throw InvalidArgument("matlab_imresize: the scale must be finite and > 0, got " +
                          std::to_string(scale));
  }
  const KernelShape shape = shape_of(kernel);
  // Shrinking stretches the kernel to width/scale taps per output sample;
  // past this the weight tables alone would not fit in memory.
  if (shape.width / scale > (1 << 20)) {
    throw InvalidArgument("matlab_imresize: the scale " + std::to_string(scale) +
                          " is too small (the kernel would span over a million pixels)");
  }
  if (src.channels() > 4) {
    throw InvalidArgument("matlab_imresize: 1 to 4 channels supported, got " +
                          std::to_string(src.channels()));
  }
  const int out_rows = output_length(src.rows, scale, "height");
  const int out_cols = output_length(src.cols, scale, "width");
  switch (src.depth()) {
    case CV_8U:
      return resize_typed<uchar>(src, scale, out_rows, out_cols, shape, border);
    case CV_32F:
      return resize_typed<float>(src, scale, out_rows, out_cols, shape, border);
    case CV_64F:
      return resize_typed<double>(src, scale, out_rows, out_cols, shape, border);
    default:
      throw InvalidArgument(
          "matlab_imresize: only 8-bit, 32-bit float and 64-bit float images "
          "are supported (got OpenCV depth " +
          std::to_string(src.depth()) + ")");
  }
}

}  // namespace fdiwn
