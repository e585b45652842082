#include "fused_ops.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <ATen/Parallel.h>

// Hot loops are compiled for AVX-512, AVX2 (+FMA) and baseline x86-64 and
// picked at load time, so one portable binary uses the wide units where the
// CPU has them.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define FDIWN_MULTIVERSION \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FDIWN_MULTIVERSION
#endif

namespace fdiwn::fused {

namespace {

// Pixels per work item: up to 4096 (enough to amortise scheduling), fewer
// on small images so that every thread gets some (at least 256).
int64_t chunk_size(int64_t pixels) {
  const int64_t threads = at::get_num_threads();
  return std::clamp<int64_t>((pixels + 4 * threads - 1) / (4 * threads), 256, 4096);
}

// Where pixel p of image n starts: base + n * image_stride + p * pixel_stride.
struct View {
  float* base = nullptr;
  int64_t image_stride = 0;
  int64_t pixel_stride = 0;
  int64_t channels = 0;
};

View view_of(const torch::Tensor& t) {
  if (t.dim() != 4 || t.scalar_type() != torch::kFloat32 || t.stride(1) != 1 ||
      t.stride(2) != t.size(3) * t.stride(3)) {
    throw std::invalid_argument("fused op: expected a channels-last float32 N x C x H x W tensor");
  }
  return {t.data_ptr<float>(), t.stride(0), t.stride(3), t.size(1)};
}

inline float* at(const View& v, int64_t n, int64_t p) {
  return v.base + n * v.image_stride + p * v.pixel_stride;
}

// e^x, accurate to about 2 ulp (Cephes' expf), written so that loops over
// channels vectorise: no branches, no library call.
inline float exp_approx(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  // Round x / ln 2 to the nearest integer k with the 1.5 * 2^23 trick.
  const float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = x - k * 0.693359375f + k * 2.12194440e-4f;
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * z + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return e * scale;
}

inline float sigmoid(float x) {
  return 1.0f / (1.0f + exp_approx(-x));
}

// Splits images x pixels into work items and runs fn(n, begin, end, item).
template <class Fn>
void for_each_chunk(int64_t images, int64_t pixels, Fn&& fn) {
  const int64_t chunk = chunk_size(pixels);
  const int64_t per_image = (pixels + chunk - 1) / chunk;
  at::parallel_for(0, images * per_image, 1, [&](int64_t first, int64_t last) {
    for (int64_t item = first; item < last; ++item) {
      const int64_t n = item / per_image, begin = (item % per_image) * chunk;
      fn(n, begin, std::min(pixels, begin + chunk), item);
    }
  });
}

int64_t chunk_count(int64_t images, int64_t pixels) {
  const int64_t chunk = chunk_size(pixels);
  return images * ((pixels + chunk - 1) / chunk);
}

// Sums and sums of squares per chunk, folded into per-image statistics.
struct Partials {
  explicit Partials(int64_t chunks) : sum(chunks), sq(chunks) {}
  std::vector<std::array<double, 2 * kC>> sum, sq;
};

std::vector<ChannelStats> finish_stats(const Partials& parts, int64_t images, int64_t pixels,
                                       int64_t channels) {
  const int64_t per_image = parts.sum.size() / images;
  std::vector<ChannelStats> stats(images);
  for (int64_t n = 0; n < images; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      double s = 0, q = 0;
      for (int64_t i = n * per_image; i < (n + 1) * per_image; ++i) {
        s += parts.sum[i][c];
        q += parts.sq[i][c];
      }
      const double mean = s / pixels;
      stats[n].mean[c] = mean;
      stats[n].var[c] = std::max(0.0, q / pixels - mean * mean);
    }
  }
  return stats;
}

FDIWN_MULTIVERSION
void stats_range(const float* p, int64_t count, int64_t stride, int64_t channels, double* sum,
                 double* sq) {
  double s[2 * kC] = {}, q[2 * kC] = {};
  for (int64_t i = 0; i < count; ++i, p += stride) {
    for (int64_t c = 0; c < channels; ++c) {
      const double v = p[c];
      s[c] += v;
      q[c] += v * v;
    }
  }
  for (int64_t c = 0; c < channels; ++c) {
    sum[c] = s[c];
    sq[c] = q[c];
  }
}

// The apply kernel on one run of pixels, everything resolved to pointers.
struct ApplyRow {
  const float* body;
  int64_t body_stride;
  const Gates* gates;
  float body_scale;
  int terms;
  const float* term[4];
  int64_t term_stride[4];
  float term_scale[4];
  const float* gate[4];  // nullptr: no gate on that term
  int64_t gate_stride[4];
  float slope;
  float* out;
  int64_t out_stride;
  float* low;
  float* high;  // dense, 12 floats per pixel
  float* scatter;
  int64_t scatter_stride;
  const int* scatter_to;
  double* sum;
  double* sq;  // nullptr: no statistics
};

FDIWN_MULTIVERSION
void apply_range(const ApplyRow& a, int64_t count) {
  constexpr int H = kC / 2;
  double s[kC] = {}, q[kC] = {};
  // Local copies: the compiler then knows nothing aliases them.
  float ga[kC], gb[kC];
  for (int c = 0; c < kC; ++c) {
    ga[c] = a.gates->a[c];
    gb[c] = a.gates->b[c];
  }
  for (int64_t i = 0; i < count; ++i) {
    const float* __restrict b = a.body + i * a.body_stride;
    float g[kC];
    for (int c = 0; c < kC; ++c) {
      const float v = b[c];
      g[c] = v * sigmoid(ga[c] * v + gb[c]);
    }
    // Channel shuffle with 2 groups: output 2j <- j, 2j+1 <- 12+j.
    float z[kC];
    for (int j = 0; j < H; ++j) {
      z[2 * j] = a.body_scale * g[j];
      z[2 * j + 1] = a.body_scale * g[H + j];
    }
    for (int t = 0; t < a.terms; ++t) {
      const float* v = a.term[t] + i * a.term_stride[t];
      const float w = a.term_scale[t];
      if (a.gate[t]) {
        const float* gt = a.gate[t] + i * a.gate_stride[t];
        for (int c = 0; c < kC; ++c) z[c] += w * v[c] * gt[c];
      } else {
        for (int c = 0; c < kC; ++c) z[c] += w * v[c];
      }
    }
    if (a.slope != 1.0f) {
      for (int c = 0; c < kC; ++c) z[c] = z[c] >= 0.0f ? z[c] : a.slope * z[c];
    }
    if (a.out) {
      float* o = a.out + i * a.out_stride;
      for (int c = 0; c < kC; ++c) o[c] = z[c];
    }
    if (a.low) {
      for (int c = 0; c < H; ++c) {
        a.low[i * H + c] = z[c];
        a.high[i * H + c] = z[H + c];
      }
    }
    if (a.scatter) {
      float* d = a.scatter + i * a.scatter_stride;
      for (int c = 0; c < kC; ++c) d[a.scatter_to[c]] = z[c];
    }
    if (a.sum) {
      for (int c = 0; c < kC; ++c) {
        s[c] += z[c];
        q[c] += static_cast<double>(z[c]) * z[c];
      }
    }
  }
  if (a.sum) {
    for (int c = 0; c < kC; ++c) {
      a.sum[c] = s[c];
      a.sq[c] = q[c];
    }
  }
}

FDIWN_MULTIVERSION
void interact_first_range(const float* oa, const float* x, int64_t oa_stride, int64_t x_stride,
                          const float* ga, const float* gb, float* ob1, float* oa1, int64_t count,
                          double* sum, double* sq) {
  double s[kC] = {}, q[kC] = {};
  for (int64_t i = 0; i < count; ++i) {
    const float* a = oa + i * oa_stride;
    const float* b = x + i * x_stride;
    for (int c = 0; c < kC; ++c) {
      ob1[i * kC + c] = ga[c] * a[c] + b[c];
      const float v = gb[c] * b[c] + a[c];
      oa1[i * kC + c] = v;
      s[c] += v;
      q[c] += static_cast<double>(v) * v;
    }
  }
  for (int c = 0; c < kC; ++c) {
    sum[c] = s[c];
    sq[c] = q[c];
  }
}

FDIWN_MULTIVERSION
void interact_second_range(const float* __restrict oa1, const float* __restrict ob,
                           const float* __restrict s1, const float* __restrict s2,
                           const float* ga_in, const float* gb_in, float* __restrict ob2,
                           float* __restrict oa2, int64_t count) {
  float ga[kC], gb[kC];
  for (int c = 0; c < kC; ++c) {
    ga[c] = ga_in[c];
    gb[c] = gb_in[c];
  }
  for (int64_t i = 0; i < count * kC; i += kC) {
    for (int c = 0; c < kC; ++c) {
      ob2[i + c] = (ga[c] * oa1[i + c] + ob[i + c]) * s1[i + c];
      oa2[i + c] = (gb[c] * ob[i + c] + oa1[i + c]) * s2[i + c];
    }
  }
}

void require_dense(const torch::Tensor& t, const char* what, int64_t channels = kC) {
  const View v = view_of(t);
  if (v.pixel_stride != v.channels || v.channels != channels) {
    throw std::invalid_argument(std::string("fused op: ") + what + " must be a dense " +
                                std::to_string(channels) + "-channel tensor");
  }
}

}  // namespace

torch::Tensor empty_nhwc(int64_t n, int64_t c, int64_t h, int64_t w) {
  return torch::empty({n, c, h, w}, torch::TensorOptions()
                                        .dtype(torch::kFloat32)
                                        .memory_format(torch::MemoryFormat::ChannelsLast));
}

std::vector<ChannelStats> channel_stats(const torch::Tensor& x) {
  const View v = view_of(x);
  if (v.channels > 2 * kC) throw std::invalid_argument("channel_stats: at most 48 channels");
  const int64_t images = x.size(0), pixels = x.size(2) * x.size(3);
  Partials parts(chunk_count(images, pixels));
  for_each_chunk(images, pixels, [&](int64_t n, int64_t begin, int64_t end, int64_t item) {
    stats_range(at(v, n, begin), end - begin, v.pixel_stride, v.channels, parts.sum[item].data(),
                parts.sq[item].data());
  });
  return finish_stats(parts, images, pixels, v.channels);
}

void attention_apply(const ApplyArgs& args) {
  const View body = view_of(*args.body);
  const View out = args.out ? view_of(*args.out) : View{};
  if (body.channels != kC || (args.out && out.channels != kC) || args.terms.size() > 4 ||
      (!args.out && !args.out_low) || (args.out_low == nullptr) != (args.out_high == nullptr)) {
    throw std::invalid_argument(
        "attention_apply: a 24-channel body, an output (whole or halves), at most 4 terms");
  }
  const int64_t images = args.body->size(0), pixels = args.body->size(2) * args.body->size(3);
  std::vector<View> terms, gates;
  for (const auto& t : args.terms) {
    terms.push_back(view_of(*t.tensor));
    gates.push_back(t.gate ? view_of(*t.gate) : View{});
  }
  const View scatter = args.scatter ? view_of(*args.scatter) : View{};
  if (args.out_low) {
    require_dense(*args.out_low, "the low half", kC / 2);
    require_dense(*args.out_high, "the high half", kC / 2);
  }
  const int64_t chunks = chunk_count(images, pixels);
  Partials parts(args.out_stats ? chunks : 0);
  for_each_chunk(images, pixels, [&](int64_t n, int64_t begin, int64_t end, int64_t item) {
    ApplyRow row{};
    row.body = at(body, n, begin);
    row.body_stride = body.pixel_stride;
    row.gates = &args.gates[n];
    row.body_scale = args.body_scale;
    row.terms = static_cast<int>(terms.size());
    for (size_t t = 0; t < terms.size(); ++t) {
      row.term[t] = at(terms[t], n, begin);
      row.term_stride[t] = terms[t].pixel_stride;
      row.term_scale[t] = args.terms[t].scale;
      row.gate[t] = gates[t].base ? at(gates[t], n, begin) : nullptr;
      row.gate_stride[t] = gates[t].pixel_stride;
    }
    row.slope = args.negative_slope;
    row.out = args.out ? at(out, n, begin) : nullptr;
    row.out_stride = out.pixel_stride;
    if (args.out_low) {
      row.low = args.out_low->data_ptr<float>() + (n * pixels + begin) * (kC / 2);
      row.high = args.out_high->data_ptr<float>() + (n * pixels + begin) * (kC / 2);
    }
    if (args.scatter) {
      row.scatter = at(scatter, n, begin);
      row.scatter_stride = scatter.pixel_stride;
      row.scatter_to = args.scatter_to.data();
    }
    if (args.out_stats) {
      row.sum = parts.sum[item].data();
      row.sq = parts.sq[item].data();
    }
    apply_range(row, end - begin);
  });
  if (args.out_stats) *args.out_stats = finish_stats(parts, images, pixels, kC);
}

void interact_first(const torch::Tensor& oa, const torch::Tensor& x,
                    const std::vector<std::array<float, kC>>& ga,
                    const std::vector<std::array<float, kC>>& gb, torch::Tensor& ob1,
                    torch::Tensor& oa1, std::vector<ChannelStats>& oa1_stats) {
  const View a = view_of(oa), b = view_of(x);
  require_dense(ob1, "ob1");
  require_dense(oa1, "oa1");
  const int64_t images = oa.size(0), pixels = oa.size(2) * oa.size(3);
  Partials parts(chunk_count(images, pixels));
  float* p_ob1 = ob1.data_ptr<float>();
  float* p_oa1 = oa1.data_ptr<float>();
  for_each_chunk(images, pixels, [&](int64_t n, int64_t begin, int64_t end, int64_t item) {
    const int64_t offset = (n * pixels + begin) * kC;
    interact_first_range(at(a, n, begin), at(b, n, begin), a.pixel_stride, b.pixel_stride,
                         ga[n].data(), gb[n].data(), p_ob1 + offset, p_oa1 + offset, end - begin,
                         parts.sum[item].data(), parts.sq[item].data());
  });
  oa1_stats = finish_stats(parts, images, pixels, kC);
}

void interact_second(const torch::Tensor& oa1, const torch::Tensor& ob, const torch::Tensor& s1,
                     const torch::Tensor& s2, const std::vector<std::array<float, kC>>& ga,
                     const std::vector<std::array<float, kC>>& gb, torch::Tensor& ob2,
                     torch::Tensor& oa2) {
  for (const torch::Tensor* t : {&oa1, &ob, &s1, &s2, static_cast<const torch::Tensor*>(&ob2),
                                 static_cast<const torch::Tensor*>(&oa2)}) {
    require_dense(*t, "interaction input");
  }
  const int64_t images = oa1.size(0), pixels = oa1.size(2) * oa1.size(3);
  for_each_chunk(images, pixels, [&](int64_t n, int64_t begin, int64_t end, int64_t) {
    const int64_t offset = (n * pixels + begin) * kC;
    interact_second_range(oa1.data_ptr<float>() + offset, ob.data_ptr<float>() + offset,
                          s1.data_ptr<float>() + offset, s2.data_ptr<float>() + offset,
                          ga[n].data(), gb[n].data(), ob2.data_ptr<float>() + offset,
                          oa2.data_ptr<float>() + offset, end - begin);
  });
}

void scatter_channels(const torch::Tensor& src, torch::Tensor& dst, const std::array<int, kC>& to) {
  const View s = view_of(src), d = view_of(dst);
  const int64_t images = src.size(0), pixels = src.size(2) * src.size(3);
  for_each_chunk(images, pixels, [&](int64_t n, int64_t begin, int64_t end, int64_t) {
    const float* from = at(s, n, begin);
    float* into = at(d, n, begin);
    for (int64_t i = 0; i < end - begin; ++i, from += s.pixel_stride, into += d.pixel_stride) {
      for (int c = 0; c < kC; ++c) into[to[c]] = from[c];
    }
  });
}

}  // namespace fdiwn::fused
