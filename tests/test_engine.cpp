// The engine against the module tree's plain forward on inputs that stress
// the band machinery: one row, one column, bands with a short last one,
// several images in a batch (each with its own statistics), one thread and
// all of them.
#include <map>
#include <memory>

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/bands.hpp"
#include "engine/engine.hpp"
#include "engine/pixel_ops.hpp"
#include "fdiwn/model.hpp"
#include "fdiwn/weights.hpp"
#include "simd_levels.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

struct Compiled {
  FDIWN model{nullptr};
  std::unique_ptr<engine::Engine> engine;
};

Compiled& compiled(int scale) {
  static std::map<int, Compiled> cache;
  Compiled& c = cache[scale];
  if (!c.engine) {
    c.model = load_fdiwn(weights_path(scale), scale);
    c.engine = std::make_unique<engine::Engine>(*c.model);
  }
  return c;
}

// Restores LibTorch's thread count when a test changes it.
struct Threads {
  explicit Threads(int n) : saved(at::get_num_threads()) { at::set_num_threads(n); }
  ~Threads() { at::set_num_threads(saved); }
  int saved;
};

void check(int scale, int64_t n, int64_t h, int64_t w, int threads) {
  SCOPED_TRACE("x" + std::to_string(scale) + " " + std::to_string(n) + " x " + std::to_string(h) +
               "x" + std::to_string(w) + ", " + std::to_string(threads) + " threads");
  c10::InferenceMode guard;
  const Threads t(threads);
  torch::manual_seed(h * 100 + w);
  // Smooth-ish content in [0, 255], different per image of the batch.
  const auto x = (torch::rand({n, 3, h, w}) * 64 + torch::rand({n, 3, 1, 1}) * 190).clamp(0, 255);
  Compiled& c = compiled(scale);
  const auto want = c.model->forward(x);
  int groups = 0;
  const auto got = c.engine->forward(x, [&] { ++groups; });
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_EQ(groups, 6 * n);
  const double diff = (got - want).abs().max().item<double>();
  EXPECT_LT(diff, 2e-3) << "largest difference from the module tree";
}

TEST(Engine, OneRow) {
  check(2, 1, 1, 7, 2);
}
TEST(Engine, OneColumn) {
  check(2, 1, 9, 1, 2);
}
TEST(Engine, ManyBandsShortLastOne) {
  check(3, 1, 37, 23, 2);
}
TEST(Engine, OneThread) {
  check(4, 1, 29, 17, 1);
}
TEST(Engine, BatchOfImagesEachWithItsOwnStatistics) {
  check(2, 2, 12, 16, 2);
}

TEST(Engine, AbandonsAPassWhenTheCallbackThrows) {
  Compiled& c = compiled(2);
  c10::InferenceMode guard;
  const auto x = torch::rand({1, 3, 10, 10}) * 255;
  int groups = 0;
  EXPECT_THROW(c.engine->forward(x,
                                 [&] {
                                   if (++groups == 2) throw std::runtime_error("stop");
                                 }),
               std::runtime_error);
  EXPECT_EQ(groups, 2);
  // And the next pass is unaffected.
  const auto again = c.engine->forward(x);
  EXPECT_LT((again - c.model->forward(x)).abs().max().item<double>(), 2e-3);
}

// The attention apply on each instruction set this CPU has (AVX-512, AVX2)
// against the portable one: gates of both kinds, with and without the input
// term, with the leaky ReLU, into a slice of a wider map.
TEST(PixelOps, AttendEqualsThePortableVersion) {
  torch::manual_seed(3);
  const int64_t count = 37;
  const auto t = torch::randn({count, 24}) * 4, x = torch::randn({count, 24});
  // The network's layout (channel gates on channels 4m and 4m+1, which the
  // AVX2 kernel computes once), and spatial gates everywhere.
  for (const bool layout : {true, false}) {
    engine::Gates g;
    for (int c = 0; c < 24; ++c) {
      g.a[c] = layout && c % 4 < 2 ? 0.0f : 0.3f * static_cast<float>(c % 5) - 0.55f;
      g.b[c] = 0.1f * static_cast<float>(c) - 1.0f;
    }
    for (const bool with_x : {false, true}) {
      for (const float slope : {1.0f, 0.05f}) {
        SCOPED_TRACE(std::string(layout ? "network's gates, " : "spatial gates, ") +
                     (with_x ? "with x" : "no x") + ", slope " + std::to_string(slope));
        auto portable = torch::zeros({count, 48});
        const float* xp = with_x ? x.data_ptr<float>() : nullptr;
        engine::ops::attend_portable(t.data_ptr<float>(), g, 0.7f, xp, 1.3f, slope,
                                     portable.data_ptr<float>(), 48, count);
        for (const engine::Simd simd : runnable_simd()) {
          SCOPED_TRACE(simd_name(simd));
          auto fast = torch::zeros({count, 48});
          engine::ops::attend_with(simd, t.data_ptr<float>(), g, 0.7f, xp, 1.3f, slope,
                                   fast.data_ptr<float>(), 48, count);
          EXPECT_LT((fast - portable).abs().max().item<double>(), 1e-5);
          // The other half of the wider map is untouched.
          EXPECT_EQ(fast.narrow(1, 24, 24).abs().max().item<double>(), 0.0);
        }
      }
    }
  }
}

TEST(Bands, CoverEveryRowOnceWithAtLeastTwoPerThreadWhereTheImageAllows) {
  for (int threads : {1, 2, 16}) {
    for (int64_t h : {1, 7, 64, 1080}) {
      for (int64_t w : {1, 128, 1920}) {
        SCOPED_TRACE(std::to_string(h) + "x" + std::to_string(w) + ", " + std::to_string(threads) +
                     " threads");
        const engine::Frame f = engine::make_frame(h, w, threads);
        int64_t covered = 0;
        for (int64_t b = 0; b < f.bands; ++b) {
          const engine::Span s = f.band(b);
          EXPECT_EQ(s.lo, covered);
          EXPECT_GT(s.rows(), 0);
          covered = s.hi;
        }
        EXPECT_EQ(covered, h);
        if (h >= 8 * 2 * threads) {
          EXPECT_GE(f.bands, 2 * threads);
        }
      }
    }
  }
}

// Heights are whole Winograd tiles (6 rows) where the image has them, and
// the bands share evenly between threads where a height allows it.
TEST(Bands, WholeTilesSharedEvenlyBetweenThreads) {
  struct Case {
    int64_t h, w;
    int threads;
    int64_t rows, bands;
  };
  // 640x360: 30 bands of 12 rows (15 each on 2 threads), the cache's 16
  // rows rounded down to whole tiles; wide images at least 12 rows (1080p:
  // not 6); 228x228 on 2 threads: 8 bands of 30 rows (4 each, 128 rows with
  // their halo), not 6 of 42 (3 each, 132 rows).
  for (const Case& c :
       {Case{360, 640, 2, 12, 30}, Case{360, 640, 1, 12, 30}, Case{540, 960, 2, 12, 45},
        Case{144, 144, 4, 18, 8}, Case{228, 228, 2, 30, 8}, Case{1080, 1920, 2, 12, 90}}) {
    SCOPED_TRACE(std::to_string(c.h) + "x" + std::to_string(c.w) + ", " +
                 std::to_string(c.threads) + " threads");
    const engine::Frame f = engine::make_frame(c.h, c.w, c.threads);
    EXPECT_EQ(f.band_rows, c.rows);
    EXPECT_EQ(f.bands, c.bands);
  }
  for (int threads : {1, 2, 3, 8}) {
    for (int64_t h : {16, 100, 360, 1080}) {
      for (int64_t w : {64, 640, 1920}) {
        const engine::Frame f = engine::make_frame(h, w, threads);
        EXPECT_EQ(f.band_rows % 6, 0) << h << "x" << w << ", " << threads << " threads";
      }
    }
  }
}

}  // namespace
}  // namespace fdiwn::test
