#include "engine/engine.hpp"

#include <ATen/Parallel.h>

#include "engine/passes.hpp"
#include "fdiwn/model.hpp"

namespace fdiwn::engine {

namespace {

using torch::Tensor;

Frame frame_for(const Tensor& x) {
  return make_frame(x.size(2), x.size(3), at::get_num_threads());
}

// Image n of an N x C x H x W tensor as a dense channels-last map.
Map to_map(const Pass& p, const Tensor& x_any, int64_t n) {
  const Tensor x = x_any[n].permute({1, 2, 0}).contiguous().to(torch::kFloat32);
  Map m(p.pool, p.frame, static_cast<int>(x.size(2)));
  std::copy(x.data_ptr<float>(), x.data_ptr<float>() + x.numel(), m.row(0));
  return m;
}

// A copy that owns its memory (clone: for a 1x1 map the permuted view already
// counts as contiguous, and contiguous() would keep pointing into the map).
Tensor to_tensor(const Frame& f, const Map& m) {
  return torch::from_blob(m.row(0), {1, f.height, f.width, m.channels()}, torch::kFloat32)
      .permute({0, 3, 1, 2})
      .clone(torch::MemoryFormat::Contiguous);
}

// The statistics of a map, in one pass.
Stats stats_of(const Frame& f, const Map& m) {
  BandStats st(f, m.channels());
  run_bands(f, [&](int64_t b, Scratch&) {
    const Span band = f.band(b);
    st.add(b, m.row(band.lo), band.rows() * f.width);
  });
  return st.finish();
}

// Runs `unit` on each image of x and stacks the results.
template <class Fn>
Tensor per_image(const Tensor& x, Fn&& unit) {
  torch::NoGradGuard no_grad;
  MapPool pool;
  const Frame f = frame_for(x);
  const Pass p{f, pool};
  std::vector<Tensor> out;
  for (int64_t n = 0; n < x.size(0); ++n) {
    Map in = to_map(p, x, n);
    Stats stats = stats_of(f, in);
    Features xf{std::move(in), stats};
    out.push_back(to_tensor(f, unit(p, xf)));
  }
  return torch::cat(out);
}

// a = m * v + bias for the 1x1 colour matrices (mean shifts).
inline void affine3(const float (&m)[3][4], const float* v, float* out) {
  for (int o = 0; o < 3; ++o) out[o] = m[o][0] * v[0] + m[o][1] * v[1] + m[o][2] * v[2] + m[o][3];
}

// Feature maps kept from one image for the next (of the same size: a batch
// of photos or video frames), unless they are larger than this.
constexpr std::size_t kKeptBetweenImages = std::size_t{64} << 20;

}  // namespace

struct Engine::Impl {
  NetworkKernels k;
  mutable MapPool pool;

  // One image: x is 3 x H x W (any layout); writes into out (3 x sH x sW).
  void forward_image(const Tensor& x, Tensor out, const std::function<void()>& after_group) const {
    const int64_t H = x.size(1), W = x.size(2), s = k.scale, ss = s * s;
    const Frame f = make_frame(H, W, at::get_num_threads());
    const Pass p{f, pool};
    pool.release_unusable(f);
    // The input as channels-last (read through its strides: no copy of the
    // whole image); its mean-shifted values are made per band where needed.
    const Tensor xf = x.to(torch::kFloat32);
    const auto in = xf.accessor<float, 3>();
    Map raw(pool, f, 3);
    run_bands(f, [&](int64_t b, Scratch&) {
      const Span band = f.band(b);
      float* dst = raw.row(band.lo);
      for (int64_t r = band.lo; r < band.hi; ++r) {
        for (int64_t col = 0; col < W; ++col, dst += 3) {
          for (int c = 0; c < 3; ++c) dst[c] = in[c][r][col];
        }
      }
    });
    // Sub_mean on rows `s` of the input, into the band's scratch.
    const auto shifted = [&](Span rows, Scratch& scr) {
      const int64_t px = rows.rows() * W;
      float* out = scr.take(px * 3);
      const float* src = raw.row(rows.lo);
      for (int64_t i = 0; i < px; ++i) affine3(k.sub_mean, src + 3 * i, out + 3 * i);
      return out;
    };
    Features d{Map(pool, f, kC), {}};
    run_bands(f, [&](int64_t b, Scratch& scr) {
      const Span band = f.band(b), h1 = f.around(band, 1);
      k.head.rows(shifted(h1, scr), h1, band, H, W, d.map.row(band.lo));
    });
    d.stats = stats_of(f, d.map);
    // The WRDC running sums: d += group(d), the first group's output taken
    // as it is.
    fswg(k.li1, p, d, false);
    if (after_group) after_group();
    for (const FswgKernels* g : {&k.li1, &k.li2, &k.li3, &k.li2, &k.li3}) {
      fswg(*g, p, d, true);
      if (after_group) after_group();
    }
    // Tails: UP1(conv1(d)) + UP2(conv2(z)), pixel shuffle, Add_mean, per band.
    float* o = out.data_ptr<float>();
    const int64_t plane = H * s * W * s;
    run_bands(f, [&](int64_t b, Scratch& scr) {
      const Span band = f.band(b), h1 = f.around(band, 1), h2 = f.around(band, 2);
      const int64_t tail = k.conv1.out_channels(), n = band.rows() * W;
      float* a = scr.take(h1.rows() * W * tail);
      float* u = scr.take(n * 3 * ss);
      k.conv1.rows(d.map.row(h2.lo), h2, h1, H, W, a);
      k.up1.rows(a, h1, band, H, W, u);
      const float* z = k.tail_from_shifted ? shifted(h2, scr) : raw.row(h2.lo);
      k.conv2.rows(z, h2, h1, H, W, a);
      k.up2.rows(a, h1, band, H, W, u, /*accumulate=*/true);
      for (int64_t r = band.lo; r < band.hi; ++r) {
        for (int64_t col = 0; col < W; ++col) {
          const float* v = u + ((r - band.lo) * W + col) * 3 * ss;
          for (int64_t i = 0; i < s; ++i) {
            for (int64_t j = 0; j < s; ++j) {
              const float in[3] = {v[i * s + j], v[ss + i * s + j], v[2 * ss + i * s + j]};
              float rgb_out[3];
              affine3(k.add_mean, in, rgb_out);
              const int64_t at = (r * s + i) * W * s + col * s + j;
              for (int c = 0; c < 3; ++c) o[c * plane + at] = rgb_out[c];
            }
          }
        }
      }
    });
  }
};

Engine::Engine(const FDIWNImpl& model) : impl_(std::make_unique<Impl>()) {
  impl_->k = compile(model);
}

Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

Tensor Engine::forward(const Tensor& x, const std::function<void()>& after_group) const {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 3, "the engine takes N x 3 x H x W images");
  const int64_t s = impl_->k.scale;
  Tensor out = torch::empty({x.size(0), 3, x.size(2) * s, x.size(3) * s}, torch::kFloat32);
  for (int64_t n = 0; n < x.size(0); ++n) impl_->forward_image(x[n], out[n], after_group);
  return out;
}

void Engine::release_memory(bool keep_small) const {
  impl_->pool.release(keep_small ? kKeptBetweenImages : 0);
}

const NetworkKernels& Engine::kernels() const {
  return impl_->k;
}

Tensor run_unit(const WirwKernels& k, const Tensor& x) {
  return per_image(x, [&](const Pass& p, const Features& in) { return wirw(k, p, in).map; });
}

Tensor run_unit(const WcrwKernels& k, const Tensor& x) {
  return per_image(x, [&](const Pass& p, const Features& in) { return wcrw(k, p, in.map).map; });
}

Tensor run_unit(const WdibKernels& k, const Tensor& x) {
  return per_image(x, [&](const Pass& p, const Features& in) { return wdib(k, p, in).map; });
}

Tensor run_unit(const FswgKernels& k, const Tensor& x) {
  return per_image(x, [&](const Pass& p, Features& in) {
    fswg(k, p, in, false);
    return std::move(in.map);
  });
}

}  // namespace fdiwn::engine
