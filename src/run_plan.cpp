#include "run_plan.hpp"

#include <algorithm>
#include <string>

#include "chop_geometry.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/upscaler.hpp"

namespace fdiwn {

namespace {

// Peak resident memory of one network pass per LR pixel of the piece,
// beside its float output, measured with `fdiwn bench --speed` (peak RSS of
// whole-image passes from 128x128 to 1920x1080, minus the start-up
// footprint and the output), rounded up: the engine keeps at most eight
// 24-channel maps and the input's copies (0.86-0.95 KB at x2-x4); the plain
// path keeps the eager graph's temporaries (5-7 KB).
double activation_bytes_per_pixel(Path path) {
  return path == Path::Engine ? 1.0 * 1024 : 7.5 * 1024;
}
// Libraries, weights and allocator slack not covered above.
constexpr std::size_t kFixedBytes = std::size_t{400} << 20;
// Auto never splits into pieces smaller than this (LR pixels): below it the
// overlap dominates and the budget is simply too small.
constexpr int64_t kSmallestPiece = 64 * 64;

std::size_t mib(std::size_t bytes) {
  return bytes >> 20;
}

// Memory that does not depend on how the image is split: the input as a
// float tensor, the output image (and a converted copy), the self-ensemble's
// float accumulators, the alpha channel's separate pass.
std::size_t buffer_bytes(const PlanRequest& r) {
  const std::size_t lr = static_cast<std::size_t>(r.size.area());
  const std::size_t hr = lr * r.scale * r.scale;
  std::size_t bytes = lr * 3 * sizeof(float) * (r.tta ? 2 : 1);
  bytes += 2 * hr * r.channels * r.bytes_per_value;
  if (r.tta) bytes += 2 * hr * 3 * sizeof(float);
  if (r.alpha_network_pass) bytes += hr * 3 * r.bytes_per_value;
  return bytes;
}

// Memory per LR pixel of the largest piece: the network's activations and
// the piece's float output (converted into the image in strips).
double piece_bytes_per_pixel(const PlanRequest& r) {
  return activation_bytes_per_pixel(r.path) + 1.0 * r.scale * r.scale * 3 * sizeof(float);
}

std::size_t peak_bytes(const PlanRequest& r, int64_t largest_piece) {
  return kFixedBytes + buffer_bytes(r) +
         static_cast<std::size_t>(piece_bytes_per_pixel(r) * static_cast<double>(largest_piece));
}

DetailedPlan finish(const PlanRequest& r, Mode mode, int64_t min_size) {
  const auto pieces =
      mode == Mode::Whole ? whole_piece(r.size, r.scale) : chop_pieces(r.size, r.scale, min_size);
  DetailedPlan plan;
  plan.min_size = mode == Mode::Whole ? 0 : min_size;
  plan.summary.mode = mode;
  plan.summary.pieces = static_cast<int>(pieces.size());
  plan.summary.passes = (r.tta ? 8 : 1) * (r.alpha_network_pass ? 2 : 1);
  plan.summary.largest_piece = largest_crop(pieces);
  plan.summary.peak_bytes = peak_bytes(r, plan.summary.largest_piece);
  return plan;
}

}  // namespace

std::size_t least_memory_budget(Path path, int scale) {
  // A 64x64 colour image in one piece: the smallest piece Auto makes, with
  // the buffers of an image that size.
  PlanRequest r;
  r.size = cv::Size(64, 64);
  r.scale = scale;
  r.path = path;
  static_assert(kSmallestPiece == 64 * 64, "the image above is one smallest piece");
  // Whole MiB, so that the figure a message gives is itself enough.
  constexpr std::size_t kMiB = std::size_t{1} << 20;
  return (peak_bytes(r, r.size.area()) + kMiB - 1) / kMiB * kMiB;
}

DetailedPlan make_plan(const PlanRequest& r) {
  if (r.mode == Mode::Whole) return finish(r, Mode::Whole, 0);
  if (r.mode == Mode::Chop) return finish(r, Mode::Chop, kReferenceChopMinSize);

  const int64_t whole = r.size.area();
  if (peak_bytes(r, whole) <= r.budget) return finish(r, Mode::Whole, 0);
  // Pieces as large as the budget allows: the fewer the seams, the closer
  // the result is to the whole-image pass.
  const std::size_t fixed = kFixedBytes + buffer_bytes(r);
  const int64_t fitting =
      r.budget > fixed
          ? static_cast<int64_t>(static_cast<double>(r.budget - fixed) / piece_bytes_per_pixel(r))
          : 0;
  if (fitting < kSmallestPiece) {
    throw InsufficientMemory("an image of " + std::to_string(r.size.width) + "x" +
                             std::to_string(r.size.height) + " at x" + std::to_string(r.scale) +
                             " needs more than " + std::to_string(mib(fixed)) +
                             " MiB even in small pieces; the memory budget is " +
                             std::to_string(mib(r.budget)) + " MiB");
  }
  return finish(r, Mode::Chop, fitting);
}

}  // namespace fdiwn
