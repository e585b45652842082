// Upscaler: runs the loaded FDIWN on images. Colour passes are planned as
// pieces (one whole-image piece, or the reference chop) whose results are
// written straight into the output image; the self-ensemble averages eight
// transformed passes in float.
#include "fdiwn/upscaler.hpp"

#include <string>

#include <c10/core/InferenceMode.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "chop_geometry.hpp"
#include "engine/engine.hpp"
#include "engine/threads.hpp"
#include "fdiwn/environment.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/model.hpp"
#include "fdiwn/weights.hpp"
#include "image_kinds.hpp"
#include "run_plan.hpp"

namespace fdiwn {

namespace {

void check_threads(int threads) {
  if (threads < 0) {
    throw InvalidArgument("threads must be 0 (all cores) or positive (got " +
                          std::to_string(threads) + ")");
  }
}

// 16-bit images run on the network's 0..255 range: v16 = v8 * 257.
constexpr double k16BitPerLevel = 257.0;

double value_scale(int depth) {
  return depth == CV_16U ? k16BitPerLevel : 1.0;
}

int bytes_per_value(int depth) {
  return depth == CV_8U ? 1 : depth == CV_16U ? 2 : 4;
}

// BGR image (any depth) -> 1 x 3 x H x W float RGB tensor on 0..255.
torch::Tensor to_tensor(const cv::Mat& bgr) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  rgb.convertTo(rgb, CV_32F, 1.0 / value_scale(bgr.depth()));
  // clone(), not contiguous(): the result must own its memory. A view of a
  // 1x1 image (or a 1-pixel-wide one) already counts as contiguous, and
  // contiguous() would return the view of `rgb`, freed on return.
  return torch::from_blob(rgb.data, {1, rgb.rows, rgb.cols, 3}, torch::kFloat32)
      .permute({0, 3, 1, 2})
      .clone(torch::MemoryFormat::Contiguous);
}

// Writes `rect` (absolute output coordinates) of a piece's network output,
// whose top-left output pixel is `origin`, into `out` (BGR of any depth):
// float values are scaled for 16 bits, then saturated and rounded to nearest
// (half to even, as torch.round) by OpenCV's conversion.
void write_region(const torch::Tensor& piece_out, cv::Point origin, const cv::Rect& rect,
                  cv::Mat& out) {
  // In strips of rows: the float copies then cost a strip, not an image.
  constexpr int kStripRows = 64;
  for (int y = 0; y < rect.height; y += kStripRows) {
    const cv::Rect strip(rect.x, rect.y + y, rect.width, std::min(kStripRows, rect.height - y));
    auto region = piece_out[0]
                      .narrow(1, strip.y - origin.y, strip.height)
                      .narrow(2, strip.x - origin.x, strip.width)
                      .permute({1, 2, 0})
                      .contiguous();
    const cv::Mat rgb(strip.height, strip.width, CV_32FC3, region.data_ptr<float>());
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    cv::Mat target = out(strip);
    bgr.convertTo(target, out.type(), value_scale(out.depth()));
  }
}

// Self-ensemble transform t: bit 0 flips left-right, bit 1 flips up-down,
// bit 2 then transposes (the reference's order); `inverse` undoes it.
// Always returns new pixels, never touching `m`'s.
cv::Mat transform(const cv::Mat& m, int t, bool inverse) {
  cv::Mat r = m.clone();
  if (inverse && (t & 4)) r = r.t();
  if (t & 1) cv::flip(r, r, 1);
  if (t & 2) cv::flip(r, r, 0);
  if (!inverse && (t & 4)) r = r.t();
  return r;
}

}  // namespace

struct Upscaler::Impl {
  UpscalerOptions options;
  std::string weights_path;
  int64_t parameter_count = 0;
  FDIWN model{nullptr};
  // Path::Engine: the network compiled from `model`; Path::Plain: none.
  std::unique_ptr<engine::Engine> engine;
  // The size of the image whose feature maps the engine keeps.
  cv::Size maps_size;

  torch::Tensor forward(const torch::Tensor& x, const std::function<void()>& after_group) {
    return engine ? engine->forward(x, after_group) : model->forward(x, after_group);
  }

  PlanRequest request(cv::Size size, int channels, int depth, Mode mode, bool alpha_pass) const {
    PlanRequest r;
    r.size = size;
    r.channels = channels;
    r.bytes_per_value = bytes_per_value(depth);
    r.scale = options.scale;
    r.mode = mode;
    r.tta = options.tta;
    r.alpha_network_pass = alpha_pass;
    r.budget = options.memory_budget ? options.memory_budget : default_memory_budget();
    r.path = options.path;
    return r;
  }

  // Runs the network over `pieces` of the BGR image `bgr`, writing into `out`
  // (same size as the result, any depth). Progress counts group applications.
  void run_pieces(const cv::Mat& bgr, const std::vector<ChopPiece>& pieces, cv::Mat& out,
                  const ProgressCallback& progress) {
    const int s = options.scale;
    const torch::Tensor x = to_tensor(bgr);
    const double steps = 6.0 * static_cast<double>(pieces.size());
    int done = 0;
    const std::function<void()> after_group =
        progress ? std::function<void()>([&] { progress(++done / steps); }) : nullptr;
    for (const auto& piece : pieces) {
      const auto& c = piece.crop;
      const auto crop = x.narrow(2, c.y, c.height).narrow(3, c.x, c.width).contiguous();
      write_region(forward(crop, after_group), cv::Point(s * c.x, s * c.y), piece.output, out);
    }
  }

  std::vector<ChopPiece> pieces_for(cv::Size size, const DetailedPlan& plan) const {
    return plan.min_size == 0 ? whole_piece(size, options.scale)
                              : chop_pieces(size, options.scale, plan.min_size);
  }

  cv::Mat color_pass(const cv::Mat& bgr, const DetailedPlan& plan,
                     const ProgressCallback& progress) {
    const int s = options.scale;
    if (!options.tta) {
      cv::Mat out(bgr.rows * s, bgr.cols * s, bgr.type());
      run_pieces(bgr, pieces_for(bgr.size(), plan), out, progress);
      return out;
    }
    cv::Mat sum(bgr.rows * s, bgr.cols * s, CV_32FC3, cv::Scalar::all(0));
    for (int t = 0; t < 8; ++t) {
      const cv::Mat input = transform(bgr, t, false);
      cv::Mat out(input.rows * s, input.cols * s, CV_32FC3);
      const ProgressCallback sub =
          progress ? ProgressCallback([&](double f) { progress((t + f) / 8); }) : nullptr;
      // Float throughout: the eight results are averaged before rounding.
      cv::Mat input_float;
      input.convertTo(input_float, CV_32F, 1.0 / value_scale(bgr.depth()));
      run_pieces(input_float, pieces_for(input.size(), plan), out, sub);
      sum += transform(out, t, true);
    }
    cv::Mat result;
    sum.convertTo(result, bgr.type(), value_scale(bgr.depth()) / 8.0);
    return result;
  }
};

Upscaler::Upscaler(const UpscalerOptions& options) : impl_(std::make_unique<Impl>()) {
  if (options.scale < 2 || options.scale > 4) {
    throw InvalidArgument("scale must be 2, 3 or 4 (got " + std::to_string(options.scale) + ")");
  }
  check_threads(options.threads);
  impl_->options = options;
  impl_->weights_path =
      options.weights_path.empty() ? default_weights_path(options.scale) : options.weights_path;

  const WeightsFile file = read_weights_file(impl_->weights_path);
  require_scale(file, options.scale);
  impl_->parameter_count = file.source_parameters;
  impl_->model = build_fdiwn(file);
  if (options.path == Path::Engine) impl_->engine = std::make_unique<engine::Engine>(*impl_->model);
}

Upscaler::~Upscaler() = default;
Upscaler::Upscaler(Upscaler&&) noexcept = default;
Upscaler& Upscaler::operator=(Upscaler&&) noexcept = default;

cv::Mat Upscaler::upscale(const cv::Mat& image) const {
  return upscale(image, impl_->options.mode);
}

cv::Mat Upscaler::upscale(const cv::Mat& image, Mode mode, const ProgressCallback& progress) const {
  check_upscalable(image);
  const bool alpha_pass = impl_->options.alpha == AlphaMode::Network && alpha_varies(image);
  const DetailedPlan plan =
      make_plan(impl_->request(image.size(), image.channels(), image.depth(), mode, alpha_pass));
  c10::InferenceMode inference;
  Impl& impl = *impl_;
  const engine::CallingThreadThreads on_threads(threads());
  // The engine's feature maps are kept from one image to the next of the
  // same size (photos from one camera, video frames): fresh memory costs a
  // kernel zeroing pass on first touch, 5-8% of a 720p or 1080p pass. An
  // image of another size has them given back before it allocates anything.
  if (impl.engine && image.size() != impl.maps_size) {
    impl.engine->release_memory();
    impl.maps_size = image.size();
  }
  return upscale_any_kind(
      image, impl.options.scale, impl.options.alpha,
      [&](const cv::Mat& bgr, const ProgressCallback& p) { return impl.color_pass(bgr, plan, p); },
      progress);
}

RunPlan Upscaler::plan(cv::Size size, int channels, Mode mode, bool alpha_varies) const {
  const bool alpha_pass =
      channels == 4 && alpha_varies && impl_->options.alpha == AlphaMode::Network;
  return make_plan(impl_->request(size, channels, CV_8U, mode, alpha_pass)).summary;
}

void Upscaler::set_memory_budget(std::size_t bytes) {
  impl_->options.memory_budget = bytes;
}

void Upscaler::release_memory() {
  if (impl_->engine) impl_->engine->release_memory(/*keep_small=*/false);
  impl_->maps_size = cv::Size();
}

void Upscaler::set_threads(int threads) {
  check_threads(threads);
  impl_->options.threads = threads;
}

int Upscaler::scale() const {
  return impl_->options.scale;
}
int Upscaler::threads() const {
  return impl_->options.threads > 0 ? impl_->options.threads : default_thread_count();
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
int64_t Upscaler::macs_per_pixel() const {
  return impl_->model->macs_per_pixel();
}

int64_t Upscaler::activations_per_pixel() const {
  return impl_->model->activations_per_pixel();
}

}  // namespace fdiwn
