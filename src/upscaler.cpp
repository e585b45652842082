// Upscaler: image <-> tensor conversion, the reference chop and the
// self-ensemble around one loaded FDIWN.
#include "fdiwn/upscaler.hpp"

#include <algorithm>
#include <array>
#include <string>

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <opencv2/imgproc.hpp>

#include "fdiwn/errors.hpp"
#include "fdiwn/model.hpp"
#include "fdiwn/weights.hpp"

namespace fdiwn {

namespace {

// The authors' evaluation chop (EDSR's forward_chop): quadrants overlap by
// `shave` LR pixels, and pieces of `min_size` LR pixels or more are chopped
// again.
constexpr int64_t kChopShave = 10;
constexpr int64_t kChopMinSize = 160000;

// 16-bit images run on the network's 0..255 range: v16 = v8 * 257.
constexpr double k16BitPerLevel = 257.0;

std::string type_name(const cv::Mat& m) {
  static const char* depths[] = {"8U", "8S", "16U", "16S", "32S", "32F", "64F", "16F"};
  return std::string("CV_") + depths[m.depth()] + "C" + std::to_string(m.channels());
}

}  // namespace

const char* to_string(Mode mode) {
  return mode == Mode::Whole ? "whole" : "chop";
}

struct Upscaler::Impl {
  UpscalerOptions options;
  std::string weights_path;
  int64_t parameter_count = 0;
  FDIWN model{nullptr};

  torch::Tensor run_network(const torch::Tensor& x) { return model->forward(x); }

  torch::Tensor run_chop(const torch::Tensor& x) {
    const int64_t s = options.scale;
    const int64_t h = x.size(2), w = x.size(3);
    const int64_t h_half = h / 2, w_half = w / 2;
    // Clamped so that images under 2*shave pixels still give valid crops;
    // for any larger image this is exactly the reference's crop size.
    const int64_t h_size = std::min(h_half + kChopShave, h);
    const int64_t w_size = std::min(w_half + kChopShave, w);
    const std::array<int64_t, 2> top = {0, h - h_size}, left = {0, w - w_size};
    const bool leaf = h_size * w_size < kChopMinSize;

    auto out = torch::empty({x.size(0), x.size(1), s * h, s * w}, x.options());
    for (int i = 0; i < 4; ++i) {
      const int64_t ty = top[i / 2], tx = left[i % 2];
      auto crop = x.narrow(2, ty, h_size).narrow(3, tx, w_size);
      auto sr = leaf ? run_network(crop.contiguous()) : run_chop(crop);
      // Each output quadrant comes from the crop that covers it, read at the
      // same place in the full image.
      const int64_t y0 = i / 2 ? s * h_half : 0, y1 = i / 2 ? s * h : s * h_half;
      const int64_t x0 = i % 2 ? s * w_half : 0, x1 = i % 2 ? s * w : s * w_half;
      out.narrow(2, y0, y1 - y0)
          .narrow(3, x0, x1 - x0)
          .copy_(sr.narrow(2, y0 - s * ty, y1 - y0).narrow(3, x0 - s * tx, x1 - x0));
    }
    return out;
  }

  torch::Tensor run(const torch::Tensor& x, Mode mode) {
    return mode == Mode::Chop ? run_chop(x) : run_network(x);
  }

  // Self-ensemble: transform i applies a horizontal flip if bit 0 is set, a
  // vertical flip if bit 1, then a transpose if bit 2 (the reference's
  // order); outputs are mapped back and averaged in float.
  torch::Tensor run_ensemble(const torch::Tensor& x, Mode mode) {
    torch::Tensor sum;
    for (int t = 0; t < 8; ++t) {
      auto v = x;
      if (t & 1) v = v.flip({3});
      if (t & 2) v = v.flip({2});
      if (t & 4) v = v.transpose(2, 3);
      auto y = run(v.contiguous(), mode);
      if (t & 4) y = y.transpose(2, 3);
      if (t & 2) y = y.flip({2});
      if (t & 1) y = y.flip({3});
      sum = t == 0 ? y.contiguous() : sum.add_(y);
    }
    return sum.div_(8);
  }
};

Upscaler::Upscaler(const UpscalerOptions& options) : impl_(std::make_unique<Impl>()) {
  if (options.scale < 2 || options.scale > 4) {
    throw InvalidArgument("scale must be 2, 3 or 4 (got " + std::to_string(options.scale) + ")");
  }
  if (options.threads < 0) {
    throw InvalidArgument("threads must be 0 (all cores) or positive (got " +
                          std::to_string(options.threads) + ")");
  }
  impl_->options = options;
  impl_->weights_path =
      options.weights_path.empty() ? default_weights_path(options.scale) : options.weights_path;
  // LibTorch starts with one intra-op thread; use the cores we were given.
  at::set_num_threads(options.threads > 0 ? options.threads : default_thread_count());

  const WeightsFile file = read_weights_file(impl_->weights_path);
  require_scale(file, options.scale);
  impl_->parameter_count = file.source_parameters;
  impl_->model = build_fdiwn(file);
}

Upscaler::~Upscaler() = default;
Upscaler::Upscaler(Upscaler&&) noexcept = default;
Upscaler& Upscaler::operator=(Upscaler&&) noexcept = default;

cv::Mat Upscaler::upscale(const cv::Mat& bgr) const {
  return upscale(bgr, impl_->options.mode);
}

cv::Mat Upscaler::upscale(const cv::Mat& bgr, Mode mode) const {
  if (bgr.empty()) throw InvalidArgument("cannot upscale an empty image");
  const int depth = bgr.depth();
  if (bgr.channels() != 3 || (depth != CV_8U && depth != CV_16U && depth != CV_32F)) {
    throw InvalidArgument("expected a 3-channel BGR image of 8-bit, 16-bit or float pixels, got " +
                          type_name(bgr));
  }
  c10::InferenceMode inference;
  const int s = impl_->options.scale;

  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  rgb.convertTo(rgb, CV_32F, depth == CV_16U ? 1.0 / k16BitPerLevel : 1.0);
  auto x = torch::from_blob(rgb.data, {1, rgb.rows, rgb.cols, 3}, torch::kFloat32)
               .permute({0, 3, 1, 2})
               .contiguous();

  auto y = impl_->options.tta ? impl_->run_ensemble(x, mode) : impl_->run(x, mode);
  y = y[0].permute({1, 2, 0});  // sH x sW x 3, RGB

  cv::Mat out;
  if (depth == CV_32F) {
    y = y.contiguous();
    cv::Mat(rgb.rows * s, rgb.cols * s, CV_32FC3, y.data_ptr<float>()).copyTo(out);
  } else if (depth == CV_8U) {
    y = y.clamp(0, 255).round().to(torch::kUInt8).contiguous();
    cv::Mat(rgb.rows * s, rgb.cols * s, CV_8UC3, y.data_ptr<uint8_t>()).copyTo(out);
  } else {
    // Rounded in float here, so the conversion to 16 bits below is exact.
    y = y.mul(k16BitPerLevel).clamp(0, 65535).round().contiguous();
    cv::Mat(rgb.rows * s, rgb.cols * s, CV_32FC3, y.data_ptr<float>()).convertTo(out, CV_16U);
  }
  cv::cvtColor(out, out, cv::COLOR_RGB2BGR);
  return out;
}

int Upscaler::scale() const {
  return impl_->options.scale;
}
const UpscalerOptions& Upscaler::options() const {
  return impl_->options;
}
const std::string& Upscaler::weights_path() const {
  return impl_->weights_path;
}
int64_t Upscaler::parameter_count() const {
  return impl_->parameter_count;
}

}  // namespace fdiwn
