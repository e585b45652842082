#include "engine/bands.hpp"

#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <new>

#include <ATen/Parallel.h>

#include "engine/pixel_ops.hpp"

namespace fdiwn::engine {

namespace {

// Pixels per band: the band's input, the wide 1x1 intermediate of a run and
// the 3x3's input and output then stay near a 1-2 MiB L2 cache. 640x360 on 2
// threads ran 2-5% faster in bands of 12 or 16 rows (of 640 pixels) than in
// bands of 20 or 24, in five alternating pairs; one thread ran as fast in
// bands of 16 as of 24.
constexpr int64_t kTargetPixels = 10240;
// The least height sized by the cache: fewer rows and the 3x3's halo rows
// (recomputed by both neighbours) cost more than cache misses would (a
// 1920x1080 x2 pass took 35-37 s in bands of 8 rows, 31-33 s in bands of 12
// or 16 and 35-36 s in bands of 24 or 32: 2 threads, alternating runs).
// Sharing the rows evenly between threads may take bands down to half of
// that, where the halo counted, the busiest thread has fewer rows. With
// F(6x6) tiles, 640x360 on 2 threads took 8.70 and 8.76 s in bands of 12
// rows, 8.72 and 9.60 s in bands of 18, 9.55 and 9.03 s in bands of 24
// (`fdiwn upscale`, the whole process, alternating).
constexpr int64_t kMinRows = 12;
// Band heights are rounded down to a multiple of the Winograd kernels' tile
// height (winograd.cpp): a band of 26 rows would leave its last tile row
// two thirds empty.
constexpr int64_t kRowMultiple = 6;
// Rows a band recomputes for its 3x3s' halo (one each side).
constexpr int64_t kHaloRows = 2;

int64_t round_rows(int64_t rows) {
  return std::max<int64_t>(kRowMultiple, rows / kRowMultiple * kRowMultiple);
}
constexpr std::size_t kAlign = 64;

}  // namespace

Frame make_frame(int64_t height, int64_t width, int threads) {
  Frame f;
  f.height = height;
  f.width = width;
  const int64_t by_cache = std::max<int64_t>(kMinRows, kTargetPixels / std::max<int64_t>(1, width));
  const int64_t t = std::max(1, threads);
  const int64_t by_threads = (height + 2 * t - 1) / (2 * t);
  // Each pass ends when its busiest thread does: of the heights from the
  // largest down to half of it, the one whose busiest thread has the fewest
  // rows to compute, a band's halo counted (228x228 on 2 threads: 8 bands
  // of 30 rows, 4 each, 128 rows with their halo, rather than 6 of 42, 3
  // each, 132 rows).
  const int64_t largest = round_rows(std::min(by_cache, by_threads));
  int64_t best = largest, best_cost = -1;
  const int64_t smallest = std::max(kRowMultiple, largest / 2);
  for (int64_t rows = largest; rows >= smallest; rows -= kRowMultiple) {
    const int64_t bands = (height + rows - 1) / rows;
    const int64_t cost = (bands + t - 1) / t * (rows + kHaloRows);
    if (best_cost < 0 || cost < best_cost) best = rows, best_cost = cost;
  }
  f.band_rows = std::clamp<int64_t>(best, 1, std::max<int64_t>(1, height));
  f.bands = height == 0 ? 0 : (height + f.band_rows - 1) / f.band_rows;
  return f;
}

struct Scratch::Block {
  explicit Block(std::size_t bytes) : size(bytes) {
    data = static_cast<char*>(std::aligned_alloc(kAlign, (bytes + kAlign - 1) / kAlign * kAlign));
    if (data == nullptr) throw std::bad_alloc();
  }
  ~Block() { std::free(data); }
  char* data;
  std::size_t size;
};

Scratch::Scratch() = default;
Scratch::~Scratch() = default;

float* Scratch::take(int64_t count) {
  const std::size_t bytes =
      (static_cast<std::size_t>(count) * sizeof(float) + kAlign - 1) / kAlign * kAlign;
  // Blocks are used in order; the last one in use has `used_` bytes taken.
  if (blocks_.empty() || used_ + bytes > blocks_.back()->size) {
    blocks_.push_back(std::make_unique<Block>(std::max<std::size_t>(bytes, 1 << 20)));
    used_ = 0;
  }
  char* p = blocks_.back()->data + used_;
  used_ += bytes;
  return reinterpret_cast<float*>(p);
}

void Scratch::reset() {
  // Several blocks in use: replace them by one of their total size, so that
  // the next band needs one.
  if (blocks_.size() > 1) {
    std::size_t total = 0;
    for (const auto& b : blocks_) total += b->size;
    blocks_.clear();
    blocks_.push_back(std::make_unique<Block>(total));
  }
  used_ = 0;
}

void run_bands(const Frame& frame, const std::function<void(int64_t, Scratch&)>& fn) {
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  const auto work = [&] {
    thread_local Scratch scratch;
    for (int64_t b = next++; b < frame.bands && !failed; b = next++) {
      scratch.reset();
      try {
        fn(b, scratch);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  // OpenMP directly (the runtime LibTorch and oneDNN use, so the threads are
  // the same ones): at::parallel_for is inline code that runs serially in a
  // file not compiled with OpenMP. Inside the region oneDNN runs each call on
  // the calling thread. A build without OpenMP (clang without libomp: the
  // sanitizer build) takes the bands one at a time, each convolution then
  // using every thread itself.
  const int threads = static_cast<int>(std::min<int64_t>(at::get_num_threads(), frame.bands));
#ifdef _OPENMP
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    work();
  } else {
    work();
  }
#else
  (void)threads;
  work();
#endif
  if (error) std::rethrow_exception(error);
}

BandStats::BandStats(const Frame& frame, int channels)
    : pixels_(frame.pixels()),
      channels_(channels),
      sum_(static_cast<std::size_t>(frame.bands * channels)),
      sq_(sum_.size()) {}

void BandStats::add(int64_t b, const float* p, int64_t count) {
  ops::accumulate_stats(p, count, channels_, &sum_[b * channels_], &sq_[b * channels_]);
}

Stats BandStats::finish() const {
  Stats s;
  const int64_t bands = static_cast<int64_t>(sum_.size()) / std::max(1, channels_);
  for (int c = 0; c < channels_; ++c) {
    double sum = 0, sq = 0;
    for (int64_t b = 0; b < bands; ++b) {
      sum += sum_[b * channels_ + c];
      sq += sq_[b * channels_ + c];
    }
    const double mean = pixels_ ? sum / pixels_ : 0.0;
    s.mean[c] = mean;
    s.var[c] = pixels_ ? std::max(0.0, sq / pixels_ - mean * mean) : 0.0;
  }
  return s;
}

}  // namespace fdiwn::engine
