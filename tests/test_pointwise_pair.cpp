// The fused 1x1 pair (AVX-512 and AVX2, each the CPU runs) against
// LibTorch's two conv2d with a ReLU between: the network's six shapes
// (three at x2 and x3, three wider at x4), counts of one pixel, less than a
// block, exactly a block, not a multiple of it and many blocks, with and
// without biases; that the compiled network runs every WIRW/WCRW body
// through it at each scale; and that a body gives the same bands with it as
// through oneDNN's two kernels (the path of CPUs without AVX2, which this
// one would otherwise never run).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/bands.hpp"
#include "engine/kernels.hpp"
#include "engine/passes.hpp"
#include "engine/pointwise_pair.hpp"
#include "fdiwn/model.hpp"
#include "fdiwn/weights.hpp"
#include "simd_levels.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

using engine::PointwisePair;

struct Case {
  int64_t in, wide, out, count;
  bool bias = true;
};

// pixels() on `count` pixels equals conv2d(relu(conv2d(x))) within float
// rounding; the destination's pixels after `count` are left alone.
void check(const Case& c) {
  SCOPED_TRACE(std::to_string(c.in) + "->" + std::to_string(c.wide) + "->" + std::to_string(c.out) +
               " on " + std::to_string(c.count) + " pixels" + (c.bias ? "" : " no bias"));
  ASSERT_TRUE(PointwisePair::suits(c.in, c.wide, c.out));
  torch::manual_seed(c.in * 100000 + c.out * 1000 + c.count);
  const auto w1 = torch::randn({c.wide, c.in, 1, 1}) * 0.3;
  const auto w2 = torch::randn({c.out, c.wide, 1, 1}) * 0.2;
  const auto b1 = c.bias ? torch::randn({c.wide}) : torch::Tensor();
  const auto b2 = c.bias ? torch::randn({c.out}) : torch::Tensor();
  // One row of `count` pixels, NCHW for conv2d, NHWC for the kernel.
  const auto x = torch::randn({1, c.in, 1, c.count}) * 10;
  const auto want = torch::conv2d(torch::relu(torch::conv2d(x, w1, b1)), w2, b2)
                        .squeeze(0)
                        .squeeze(1)
                        .t()
                        .contiguous();
  const auto src = x.squeeze(0).squeeze(1).t().contiguous();
  const double mag = want.abs().max().item<double>();
  for (const engine::Simd simd : runnable_simd()) {
    SCOPED_TRACE(simd_name(simd));
    const PointwisePair pair(w1.data_ptr<float>(), c.bias ? b1.data_ptr<float>() : nullptr,
                             w2.data_ptr<float>(), c.bias ? b2.data_ptr<float>() : nullptr, c.in,
                             c.wide, c.out, simd);
    constexpr int64_t kGuard = 9;  // pixels after the end, which must stay as they were
    auto dst = torch::full({c.count + kGuard, c.out}, 1e30);
    pair.pixels(src.data_ptr<float>(), c.count, dst.data_ptr<float>());
    const auto got = dst.narrow(0, 0, c.count);
    const double err = (got - want).abs().max().item<double>();
    EXPECT_LE(err, 1e-4 * std::max(1.0, mag)) << "largest error " << err << " of " << mag;
    EXPECT_TRUE(dst.narrow(0, c.count, kGuard).eq(1e30).all().item<bool>())
        << "wrote past the last pixel";
  }
}

// Without AVX2 the engine runs the pair through oneDNN (the engine and
// parity tests); here the kernels can only be run where they exist.
bool runnable() {
#if defined(__x86_64__)
  EXPECT_EQ(PointwisePair::available(),
            (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) ||
                (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")));
#endif
  return PointwisePair::available();
}

// The network's shapes: WIRW, the distillation's WCRW(12), the fusion WCRW(48),
// at x2 and x3, then at x4 (wide channels that are not whole vectors).
const Case kShapes[] = {{24, 48, 12, 0}, {12, 48, 12, 0}, {48, 96, 24, 0},
                        {24, 60, 12, 0}, {12, 54, 12, 0}, {48, 108, 24, 0}};

TEST(PointwisePair, NetworkShapesEveryCount) {
  if (!runnable()) return;
  // 8 pixels a block on AVX-512, 4 on AVX2: one pixel, less than a block, one block, a block and
  // a bit, not a multiple, a band's worth.
  for (const Case& s : kShapes) {
    for (int64_t count : {1, 3, 7, 8, 9, 15, 16, 29, 640, 2053}) {
      check({s.in, s.wide, s.out, count});
    }
  }
}

TEST(PointwisePair, WithoutBiases) {
  if (!runnable()) return;
  for (const Case& s : kShapes) {
    for (int64_t count : {5, 67}) check({s.in, s.wide, s.out, count, /*bias=*/false});
  }
}

TEST(PointwisePair, NoPixels) {
  if (!runnable()) return;
  const std::vector<float> w1(48 * 24, 1.0f), w2(12 * 48, 1.0f);
  const PointwisePair pair(w1.data(), nullptr, w2.data(), nullptr, 24, 48, 12);
  float dst = 7.0f;
  pair.pixels(nullptr, 0, &dst);
  EXPECT_EQ(dst, 7.0f);
}

TEST(PointwisePair, ShapesItRefuses) {
  EXPECT_FALSE(PointwisePair::suits(24, 48, 24));
  EXPECT_FALSE(PointwisePair::suits(16, 48, 12));
  EXPECT_FALSE(PointwisePair::suits(48, 64, 24));
  EXPECT_FALSE(PointwisePair::suits(24, 96, 12));
  // x4's widths only with their own input channels.
  EXPECT_FALSE(PointwisePair::suits(24, 54, 12));
  EXPECT_FALSE(PointwisePair::suits(12, 60, 12));
  EXPECT_FALSE(PointwisePair::suits(24, 108, 12));
  EXPECT_FALSE(PointwisePair::suits(48, 54, 24));
  EXPECT_FALSE(PointwisePair::suits(48, 60, 24));
  const std::vector<float> w(64 * 64);
  EXPECT_THROW(PointwisePair(w.data(), nullptr, w.data(), nullptr, 24, 64, 24), std::logic_error);
}

// Every WIRW/WCRW body of the shipped network at `scale` gets the fused
// pair, with the shapes it was made for (a checkpoint of other widths would
// fall back): `wirw`, `wcrw` and `fusion` are its bodies' wide channels.
void expect_every_body(int scale, int64_t wirw, int64_t wcrw, int64_t fusion) {
  SCOPED_TRACE("x" + std::to_string(scale));
  const FDIWN model = load_fdiwn(weights_path(scale), scale);
  const engine::NetworkKernels k = engine::compile(*model);
  int bodies = 0;
  const auto expect = [&](const engine::BodyKernels& b, int64_t in, int64_t wide, int64_t out) {
    ++bodies;
    ASSERT_NE(b.pair, nullptr);
    EXPECT_EQ(b.pair->in_channels(), in);
    EXPECT_EQ(b.pair->wide_channels(), wide);
    EXPECT_EQ(b.pair->out_channels(), out);
  };
  for (const engine::FswgKernels* g : {&k.li1, &k.li2, &k.li3}) {
    for (const engine::WdibKernels* d : {&g->my1, &g->my2, &g->my3}) {
      for (const engine::WirwKernels* u : {&d->srb1, &d->srb2, &d->srb3, &d->srb4}) {
        expect(u->body, 24, wirw, 12);
      }
      expect(d->rb1.body, 12, wcrw, 12);
      expect(d->rb2.body, 12, wcrw, 12);
      expect(d->fuse1.body, 48, fusion, 24);
    }
    expect(g->rb1.body, 24, wirw, 12);
  }
  EXPECT_EQ(bodies, 3 * (3 * 7 + 1));
}

TEST(PointwisePair, EveryBodyOfTheNetworkX2) {
  if (runnable()) expect_every_body(2, 48, 48, 96);
}
TEST(PointwisePair, EveryBodyOfTheNetworkX3) {
  if (runnable()) expect_every_body(3, 48, 48, 96);
}
TEST(PointwisePair, EveryBodyOfTheNetworkX4) {
  if (runnable()) expect_every_body(4, 60, 54, 108);
}

// A body's output on an h x w image, band by band as the engine runs it.
torch::Tensor body_in_bands(const engine::BodyKernels& body, const torch::Tensor& x) {
  const int64_t h = x.size(0), w = x.size(1), in = x.size(2), out = body.spatial.out_channels();
  const engine::Frame f = engine::make_frame(h, w, 1);
  auto y = torch::full({h, w, out}, 1e30);
  engine::Scratch scratch;
  for (int64_t b = 0; b < f.bands; ++b) {
    const engine::Span band = f.band(b), h1 = f.around(band, 1);
    engine::run_body(body, x.data_ptr<float>() + h1.lo * w * in, h1, band, f,
                     y.data_ptr<float>() + band.lo * w * out, scratch);
    scratch.reset();
  }
  return y;
}

// Four bodies of the network at `scale` (each shape), band by band, fused
// against oneDNN's two kernels.
void expect_bodies_match_onednn(int scale) {
  SCOPED_TRACE("x" + std::to_string(scale));
  const FDIWN model = load_fdiwn(weights_path(scale), scale);
  engine::NetworkKernels k = engine::compile(*model);
  for (engine::BodyKernels* body :
       {&k.li1.my1.srb1.body, &k.li2.my3.rb2.body, &k.li3.my2.fuse1.body, &k.li2.rb1.body}) {
    const int64_t in = body->expand_relu.in_channels();
    SCOPED_TRACE(std::to_string(in) + " input channels");
    ASSERT_NE(body->pair, nullptr);
    torch::manual_seed(in);
    // Three bands of about 16K pixels, the last one short, halo rows on both
    // sides of the middle one.
    const auto x = torch::randn({260, 131, in});
    const auto fused = body_in_bands(*body, x);
    body->pair.reset();
    const auto onednn = body_in_bands(*body, x);
    const double err = (fused - onednn).abs().max().item<double>();
    const double mag = onednn.abs().max().item<double>();
    EXPECT_LE(err, 1e-4 * std::max(1.0, mag)) << "largest difference " << err << " of " << mag;
  }
}

TEST(PointwisePair, BodiesMatchOneDnnsPairX2) {
  if (runnable()) expect_bodies_match_onednn(2);
}
TEST(PointwisePair, BodiesMatchOneDnnsPairX4) {
  if (runnable()) expect_bodies_match_onednn(4);
}

}  // namespace
}  // namespace fdiwn::test
