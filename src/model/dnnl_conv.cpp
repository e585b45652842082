#include "dnnl_conv.hpp"

#include <algorithm>
#include <list>
#include <mutex>
#include <stdexcept>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <ATen/Parallel.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "fused_ops.hpp"

namespace fdiwn {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// One stream per thread, made once (a CPU stream is cheap, but not free).
dnnl::stream& cpu_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

// The last shapes a layer ran on, each with its primitive and its weights in
// the layout that primitive wants (reordered once, not on every call).
constexpr size_t kShapesKept = 8;

// Bytes of input, intermediate and output per run of pointwise_pair: well
// inside a core's L2 cache (2 MiB on the machine this was tuned on), so the
// wide intermediate is read back from cache, never from memory.
constexpr int64_t kRunBytes = 1 << 20;

void check_input(const torch::Tensor& x, int64_t channels) {
  if (x.dim() != 4 || x.scalar_type() != torch::kFloat32 || x.size(1) != channels ||
      !x.is_contiguous(torch::MemoryFormat::ChannelsLast)) {
    throw std::invalid_argument("DnnlConv: expected a dense channels-last float32 N x " +
                                std::to_string(channels) + " x H x W tensor");
  }
}

}  // namespace

struct DnnlConv::Impl {
  torch::Tensor weight;  // O x I/g x k x k, contiguous (plain layout)
  torch::Tensor bias;
  int64_t groups = 1;
  PostOp post = PostOp::None;

  struct Prepared {
    int64_t n, h, w;
    bool accumulate;
    dnnl::convolution_forward primitive;
    dnnl::memory weights;
  };
  mutable std::mutex mutex;
  mutable std::list<Prepared> prepared;  // most recent first

  int64_t out() const { return weight.size(0); }
  int64_t in() const { return weight.size(1) * groups; }
  int64_t k() const { return weight.size(2); }

  const Prepared& prepare(int64_t n, int64_t h, int64_t w, bool accumulate) const {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto it = prepared.begin(); it != prepared.end(); ++it) {
      if (it->n == n && it->h == h && it->w == w && it->accumulate == accumulate) {
        prepared.splice(prepared.begin(), prepared, it);
        return prepared.front();
      }
    }
    auto& engine = cpu_engine();
    const int64_t pad = k() / 2;
    const dnnl::memory::desc src({n, in(), h, w}, dt::f32, tag::nhwc);
    const dnnl::memory::desc dst({n, out(), h, w}, dt::f32, tag::nhwc);
    const dnnl::memory::dims wdims =
        groups == 1 ? dnnl::memory::dims{out(), in(), k(), k()}
                    : dnnl::memory::dims{groups, out() / groups, in() / groups, k(), k()};
    const dnnl::memory::desc weights_any(wdims, dt::f32, tag::any);
    const dnnl::memory::desc bias_md =
        bias.defined() ? dnnl::memory::desc({out()}, dt::f32, tag::a) : dnnl::memory::desc();
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src, weights_any,
        bias_md, dst, {1, 1}, {pad, pad}, {pad, pad});
    dnnl::post_ops ops;
    if (accumulate) ops.append_sum(1.0f);
    if (post == PostOp::Relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    if (post == PostOp::Sigmoid) {
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_logistic, 0.0f, 0.0f);
    }
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);

    const dnnl::memory::desc plain(wdims, dt::f32, groups == 1 ? tag::oihw : tag::goihw);
    dnnl::memory user(plain, engine, weight.data_ptr<float>());
    dnnl::memory packed(pd.weights_desc(), engine);
    dnnl::reorder(user, packed).execute(cpu_stream(), user, packed);
    cpu_stream().wait();

    prepared.push_front({n, h, w, accumulate, dnnl::convolution_forward(pd), packed});
    if (prepared.size() > kShapesKept) prepared.pop_back();
    return prepared.front();
  }

  // dst (N x out x H x W) = post(conv(src) [+ dst]), both dense NHWC.
  void run_raw(const float* src, float* dst, int64_t n, int64_t h, int64_t w,
               bool accumulate) const {
    const Prepared& p = prepare(n, h, w, accumulate);
    auto& engine = cpu_engine();
    // oneDNN takes a non-const handle; the source is only read.
    dnnl::memory src_mem({{n, in(), h, w}, dt::f32, tag::nhwc}, engine, const_cast<float*>(src));
    dnnl::memory dst_mem({{n, out(), h, w}, dt::f32, tag::nhwc}, engine, dst);
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, dst_mem}};
    if (bias.defined()) {
      args.emplace(DNNL_ARG_BIAS,
                   dnnl::memory({{out()}, dt::f32, tag::a}, engine, bias.data_ptr<float>()));
    }
    p.primitive.execute(cpu_stream(), args);
    cpu_stream().wait();
  }

  void run(const torch::Tensor& x, torch::Tensor& dst, bool accumulate) const {
    check_input(x, in());
    run_raw(x.data_ptr<float>(), dst.data_ptr<float>(), x.size(0), x.size(2), x.size(3),
            accumulate);
  }
};

DnnlConv::DnnlConv(const torch::Tensor& weight, const torch::Tensor& bias, int64_t groups,
                   PostOp post)
    : impl_(std::make_unique<Impl>()) {
  impl_->weight = weight.to(torch::kFloat32).contiguous();
  impl_->bias = bias.defined() ? bias.to(torch::kFloat32).contiguous() : torch::Tensor();
  impl_->groups = groups;
  impl_->post = post;
}

DnnlConv::~DnnlConv() = default;
DnnlConv::DnnlConv(DnnlConv&&) noexcept = default;
DnnlConv& DnnlConv::operator=(DnnlConv&&) noexcept = default;

torch::Tensor DnnlConv::operator()(const torch::Tensor& x) const {
  torch::Tensor dst = fused::empty_nhwc(x.size(0), impl_->out(), x.size(2), x.size(3));
  impl_->run(x, dst, false);
  return dst;
}

void DnnlConv::accumulate(const torch::Tensor& x, torch::Tensor& dst) const {
  check_input(dst, impl_->out());
  impl_->run(x, dst, true);
}

torch::Tensor DnnlConv::pointwise_pair(const DnnlConv& first, const DnnlConv& second,
                                       const torch::Tensor& x) {
  const Impl& a = *first.impl_;
  const Impl& b = *second.impl_;
  if (a.k() != 1 || b.k() != 1 || a.groups != 1 || b.groups != 1 || b.in() != a.out()) {
    throw std::invalid_argument("DnnlConv::pointwise_pair: expected two chained 1x1 convolutions");
  }
  check_input(x, a.in());
  torch::Tensor dst = fused::empty_nhwc(x.size(0), b.out(), x.size(2), x.size(3));
  // A 1x1 convolution treats pixels independently and NHWC keeps each
  // pixel's channels together, so any run of consecutive pixels (of any
  // rows, of any image) is a 1 x C x 1 x run image of its own.
  const int64_t pixels = x.size(0) * x.size(2) * x.size(3);
  if (pixels == 0) return dst;
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
  const int64_t bytes_per_pixel =
      static_cast<int64_t>(sizeof(float)) * (a.in() + a.out() + b.out());
  int64_t runs = (pixels + kRunBytes / bytes_per_pixel - 1) / (kRunBytes / bytes_per_pixel);
  runs = (runs + threads - 1) / threads * threads;  // the same number for every thread
  const int64_t run = std::max<int64_t>(1, (pixels + runs - 1) / runs);
  // Made here, before the threads start: making a primitive takes
  // milliseconds under prepare()'s lock; the threads' own prepare() calls
  // then only find them (a brief lock each).
  const int64_t last = pixels - (pixels - 1) / run * run;
  for (const int64_t len : {run, last}) {
    a.prepare(1, 1, len, false);
    b.prepare(1, 1, len, false);
  }
  const float* src = x.data_ptr<float>();
  float* out = dst.data_ptr<float>();
  // Inside this parallel region oneDNN runs each call on the calling thread.
  at::parallel_for(0, runs, 1, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> wide;
    wide.resize(static_cast<size_t>(run * a.out()));
    for (int64_t i = begin; i < end; ++i) {
      const int64_t p0 = i * run, len = std::min(run, pixels - p0);
      if (len <= 0) continue;
      a.run_raw(src + p0 * a.in(), wide.data(), 1, 1, len, false);
      b.run_raw(wide.data(), out + p0 * b.out(), 1, 1, len, false);
    }
  });
  return dst;
}

int64_t DnnlConv::out_channels() const {
  return impl_->out();
}

}  // namespace fdiwn
