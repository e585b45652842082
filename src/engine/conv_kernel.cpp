#include "engine/conv_kernel.hpp"

#include <list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "engine/winograd.hpp"

namespace fdiwn::engine {

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

// Each call's scratchpad comes from the calling thread: the same primitive
// runs on several threads at once (one band each).
void* thread_scratchpad(std::size_t bytes) {
  thread_local std::vector<char> pad;
  if (pad.size() < bytes) pad.resize(bytes);
  return pad.data();
}

// The longest run of pixels a 1x1 kernel is given at once.
constexpr int64_t kMaxRun = 4096;

// A primitive is made for one input shape: rows x width, with the zero
// padding that the band's place in the image calls for.
struct Shape {
  int64_t rows, width, pad_top, pad_bottom;
  bool accumulate;
  bool operator==(const Shape& o) const {
    return std::tie(rows, width, pad_top, pad_bottom, accumulate) ==
           std::tie(o.rows, o.width, o.pad_top, o.pad_bottom, o.accumulate);
  }
};

struct ShapeHash {
  std::size_t operator()(const Shape& s) const {
    std::size_t h = std::hash<int64_t>()(s.rows);
    for (int64_t v : {s.width, s.pad_top * 2 + s.pad_bottom, int64_t{s.accumulate}}) {
      h = h * 1000003u ^ std::hash<int64_t>()(v);
    }
    return h;
  }
};

dnnl::memory::dims weight_dims(int64_t in, int64_t out, int64_t k, int64_t groups) {
  return groups == 1 ? dnnl::memory::dims{out, in, k, k}
                     : dnnl::memory::dims{groups, out / groups, in / groups, k, k};
}

// A primitive depends on the kernel's geometry and the input's shape, not on
// its weights: the engine's ~190 kernels share a few dozen geometries, so
// primitives are made once per process for each and shared (making one takes
// 0.1-1 ms). Bounded: least recently used first out.
struct Geometry {
  int64_t in, out, k, groups;
  PostOp post;
  bool bias;
  Shape shape;
  bool operator==(const Geometry& o) const {
    return std::tie(in, out, k, groups, post, bias) ==
               std::tie(o.in, o.out, o.k, o.groups, o.post, o.bias) &&
           shape == o.shape;
  }
};

struct GeometryHash {
  std::size_t operator()(const Geometry& g) const {
    std::size_t h = ShapeHash()(g.shape);
    for (int64_t v : {g.in, g.out, g.k, g.groups, static_cast<int64_t>(g.post), int64_t{g.bias}}) {
      h = h * 1000003u ^ std::hash<int64_t>()(v);
    }
    return h;
  }
};

struct Primitive {
  dnnl::convolution_forward primitive;
  dnnl::memory::desc weights, scratchpad;
};

class PrimitiveCache {
 public:
  std::shared_ptr<const Primitive> get(const Geometry& g) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = map_.find(g);
      if (it != map_.end()) {
        order_.splice(order_.begin(), order_, it->second.second);
        return it->second.first;
      }
    }
    // Made outside the lock: threads working on different bands make
    // different primitives at once (the first image of a size).
    auto made = std::make_shared<const Primitive>(make(g));
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = map_.find(g);
    if (it != map_.end()) return it->second.first;  // another thread was first
    order_.push_front(g);
    map_.emplace(g, std::make_pair(made, order_.begin()));
    if (map_.size() > kCapacity) {
      map_.erase(order_.back());
      order_.pop_back();
    }
    return made;
  }

 private:
  static constexpr std::size_t kCapacity = 2048;

  static Primitive make(const Geometry& g) {
    auto& engine = cpu_engine();
    const Shape& s = g.shape;
    const int64_t pad = g.k / 2;
    const int64_t out_rows = s.rows + s.pad_top + s.pad_bottom - g.k + 1;
    const dnnl::memory::desc src({1, g.in, s.rows, s.width}, dt::f32, tag::nhwc);
    const dnnl::memory::desc dst({1, g.out, out_rows, s.width}, dt::f32, tag::nhwc);
    const dnnl::memory::desc weights_any(weight_dims(g.in, g.out, g.k, g.groups), dt::f32,
                                         tag::any);
    const dnnl::memory::desc bias_md =
        g.bias ? dnnl::memory::desc({g.out}, dt::f32, tag::a) : dnnl::memory::desc();
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src, weights_any,
        bias_md, dst, {1, 1}, {s.pad_top, pad}, {s.pad_bottom, pad});
    dnnl::post_ops ops;
    if (s.accumulate) ops.append_sum(1.0f);
    if (g.post == PostOp::Relu) {
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    }
    if (g.post == PostOp::Sigmoid) {
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_logistic, 0.0f, 0.0f);
    }
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);
    return {dnnl::convolution_forward(pd), pd.weights_desc(), pd.scratchpad_desc()};
  }

  std::mutex mutex_;
  std::list<Geometry> order_;
  std::unordered_map<Geometry,
                     std::pair<std::shared_ptr<const Primitive>, std::list<Geometry>::iterator>,
                     GeometryHash>
      map_;
};

// O x I/groups x k x k as O x I x k x k, zero outside each output's group.
torch::Tensor dense_weight(const torch::Tensor& weight, int64_t groups) {
  if (groups == 1) return weight;
  const int64_t out = weight.size(0), in_per = weight.size(1), out_per = out / groups;
  torch::Tensor dense = torch::zeros({out, in_per * groups, weight.size(2), weight.size(3)});
  for (int64_t g = 0; g < groups; ++g) {
    dense.slice(0, g * out_per, (g + 1) * out_per)
        .slice(1, g * in_per, (g + 1) * in_per)
        .copy_(weight.slice(0, g * out_per, (g + 1) * out_per));
  }
  return dense;
}

PrimitiveCache& primitives() {
  static PrimitiveCache cache;
  return cache;
}

}  // namespace

struct ConvKernel::Impl {
  torch::Tensor weight;  // O x I/g x k x k, contiguous
  torch::Tensor bias;
  int64_t groups = 1;
  PostOp post = PostOp::None;
  // The 3x3 kernels that Winograd's F(6x6, 3x3) runs faster (winograd.hpp).
  std::unique_ptr<Winograd3x3> winograd;

  // The shapes this kernel ran on, each with its primitive and the weights
  // in the layout it wants (usually one layout for every shape: reordered
  // once per layout).
  struct Prepared {
    std::shared_ptr<const Primitive> primitive;
    dnnl::memory weights;
  };
  mutable std::mutex mutex;
  mutable std::unordered_map<Shape, Prepared, ShapeHash> prepared;
  mutable std::vector<dnnl::memory> packed;

  int64_t out() const { return weight.size(0); }
  int64_t in() const { return weight.size(1) * groups; }
  int64_t k() const { return weight.size(2); }

  const Prepared& prepare(const Shape& s) const {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = prepared.find(s);
    if (it != prepared.end()) return it->second;
    // Many image sizes in a row: forget the old ones (the primitives stay
    // in the shared cache).
    if (prepared.size() >= 64) prepared.clear();
    auto primitive = primitives().get({in(), out(), k(), groups, post, bias.defined(), s});
    dnnl::memory weights;
    for (const auto& m : packed) {
      if (m.get_desc() == primitive->weights) weights = m;
    }
    if (!weights) {
      auto& engine = cpu_engine();
      const dnnl::memory::desc plain(weight_dims(in(), out(), k(), groups), dt::f32,
                                     groups == 1 ? tag::oihw : tag::goihw);
      dnnl::memory user(plain, engine, weight.data_ptr<float>());
      weights = dnnl::memory(primitive->weights, engine);
      dnnl::stream stream(engine);
      dnnl::reorder(user, weights).execute(stream, user, weights);
      stream.wait();
      packed.push_back(weights);
    }
    return prepared.emplace(s, Prepared{std::move(primitive), weights}).first->second;
  }

  void run(const float* src, float* dst, const Shape& s) const {
    const Prepared& p = prepare(s);
    // Memory objects made once per thread and geometry, pointed at this
    // call's data: a call then allocates nothing (the C++ API's argument
    // map and memory objects cost more than a small band's convolution).
    struct Args {
      dnnl::memory src, dst, bias, scratchpad;
    };
    thread_local std::unordered_map<Geometry, Args, GeometryHash> cache;
    const Geometry g{in(), out(), k(), groups, post, bias.defined(), s};
    auto it = cache.find(g);
    if (it == cache.end()) {
      if (cache.size() > 256) cache.clear();
      auto& engine = cpu_engine();
      const int64_t out_rows = s.rows + s.pad_top + s.pad_bottom - k() + 1;
      Args a;
      a.src = dnnl::memory({{1, in(), s.rows, s.width}, dt::f32, tag::nhwc}, engine, nullptr);
      a.dst = dnnl::memory({{1, out(), out_rows, s.width}, dt::f32, tag::nhwc}, engine, nullptr);
      if (bias.defined()) a.bias = dnnl::memory({{out()}, dt::f32, tag::a}, engine, nullptr);
      if (p.primitive->scratchpad.get_size() > 0) {
        a.scratchpad = dnnl::memory(p.primitive->scratchpad, engine, nullptr);
      }
      it = cache.emplace(g, std::move(a)).first;
    }
    Args& a = it->second;
    // oneDNN takes a non-const handle; the source is only read.
    a.src.set_data_handle(const_cast<float*>(src));
    a.dst.set_data_handle(dst);
    dnnl_exec_arg_t args[5];
    int n = 0;
    args[n++] = {DNNL_ARG_SRC, a.src.get()};
    args[n++] = {DNNL_ARG_WEIGHTS, p.weights.get()};
    args[n++] = {DNNL_ARG_DST, a.dst.get()};
    if (a.bias) {
      a.bias.set_data_handle(bias.data_ptr<float>());
      args[n++] = {DNNL_ARG_BIAS, a.bias.get()};
    }
    if (a.scratchpad) {
      a.scratchpad.set_data_handle(thread_scratchpad(p.primitive->scratchpad.get_size()));
      args[n++] = {DNNL_ARG_SCRATCHPAD, a.scratchpad.get()};
    }
    dnnl::error::wrap_c_api(
        dnnl_primitive_execute(p.primitive->primitive.get(), cpu_stream().get(), n, args),
        "could not run a convolution");
    cpu_stream().wait();
  }
};

ConvKernel::ConvKernel() = default;

ConvKernel::ConvKernel(const torch::Tensor& weight, const torch::Tensor& bias, int64_t groups,
                       PostOp post)
    : impl_(std::make_unique<Impl>()) {
  impl_->weight = weight.to(torch::kFloat32).contiguous();
  impl_->bias = bias.defined() ? bias.to(torch::kFloat32).contiguous() : torch::Tensor();
  impl_->groups = groups;
  impl_->post = post;
  if (impl_->k() == 3 && Winograd3x3::available() &&
      Winograd3x3::suits(impl_->in(), impl_->out())) {
    // A grouped kernel as a dense one with zeros between the groups: oneDNN
    // runs the network's 4-group 48->24 at a fraction of its dense speed,
    // and Winograd's dense kernel is faster even with the zeros.
    const torch::Tensor dense = dense_weight(impl_->weight, groups);
    impl_->winograd = std::make_unique<Winograd3x3>(
        dense.data_ptr<float>(), impl_->bias.defined() ? impl_->bias.data_ptr<float>() : nullptr,
        impl_->in(), impl_->out(), post);
  }
}

ConvKernel::~ConvKernel() = default;
ConvKernel::ConvKernel(ConvKernel&&) noexcept = default;
ConvKernel& ConvKernel::operator=(ConvKernel&&) noexcept = default;

void ConvKernel::rows(const float* src, Span in, Span out, int64_t height, int64_t width,
                      float* dst, bool accumulate) const {
  const int64_t half = impl_->k() / 2;
  // The rows the kernel reaches beyond the input are the image's zero
  // padding: only at the image's top and bottom.
  const int64_t pad_top = half - (out.lo - in.lo), pad_bottom = half - (in.hi - out.hi);
  if (pad_top < 0 || pad_bottom < 0 || (pad_top > 0 && in.lo != 0) ||
      (pad_bottom > 0 && in.hi != height) || out.rows() <= 0) {
    throw std::logic_error("ConvKernel::rows: input rows " + std::to_string(in.lo) + ".." +
                           std::to_string(in.hi) + " do not give output rows " +
                           std::to_string(out.lo) + ".." + std::to_string(out.hi));
  }
  if (impl_->winograd) {
    impl_->winograd->rows(src, in.lo, in.hi, out.lo, out.hi, height, width, dst, accumulate);
    return;
  }
  impl_->run(src, dst, {in.rows(), width, pad_top, pad_bottom, accumulate});
}

void ConvKernel::pixels(const float* src, int64_t count, float* dst, bool accumulate) const {
  if (impl_->k() != 1) throw std::logic_error("ConvKernel::pixels: not a 1x1 kernel");
  // Runs a power of two long, so that every image size uses the same few
  // primitives: without accumulation the last run overlaps its predecessor
  // (writing the same values again); with it, runs shrink to fit exactly.
  const int64_t in = impl_->in(), out = impl_->out();
  for (int64_t p0 = 0; p0 < count;) {
    int64_t run = 1;
    while (run * 2 <= std::min<int64_t>(accumulate ? count - p0 : count, kMaxRun)) run *= 2;
    const int64_t start = accumulate ? p0 : std::min(p0, count - run);
    impl_->run(src + start * in, dst + start * out, {1, run, 0, 0, accumulate});
    p0 = start + run;
  }
}

int64_t ConvKernel::in_channels() const {
  return impl_->in();
}
int64_t ConvKernel::out_channels() const {
  return impl_->out();
}
int64_t ConvKernel::kernel_size() const {
  return impl_->k();
}

}  // namespace fdiwn::engine
