#include "conv_kernel.hpp"

#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

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

}  // namespace

struct ConvKernel::Impl {
  torch::Tensor weight;  // O x I/g x k x k, contiguous
  torch::Tensor bias;
  int64_t groups = 1;
  PostOp post = PostOp::None;

  struct Prepared {
    dnnl::convolution_forward primitive;
    dnnl::memory weights;
    dnnl::memory::desc scratchpad;
  };
  mutable std::mutex mutex;
  mutable std::unordered_map<Shape, Prepared, ShapeHash> prepared;

  int64_t out() const { return weight.size(0); }
  int64_t in() const { return weight.size(1) * groups; }
  int64_t k() const { return weight.size(2); }

  const Prepared& prepare(const Shape& s) const {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = prepared.find(s);
    if (it != prepared.end()) return it->second;
    auto& engine = cpu_engine();
    const int64_t pad = k() / 2;
    const int64_t out_rows = s.rows + s.pad_top + s.pad_bottom - k() + 1;
    const dnnl::memory::desc src({1, in(), s.rows, s.width}, dt::f32, tag::nhwc);
    const dnnl::memory::desc dst({1, out(), out_rows, s.width}, dt::f32, tag::nhwc);
    const dnnl::memory::dims wdims =
        groups == 1 ? dnnl::memory::dims{out(), in(), k(), k()}
                    : dnnl::memory::dims{groups, out() / groups, in() / groups, k(), k()};
    const dnnl::memory::desc weights_any(wdims, dt::f32, tag::any);
    const dnnl::memory::desc bias_md =
        bias.defined() ? dnnl::memory::desc({out()}, dt::f32, tag::a) : dnnl::memory::desc();
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src, weights_any,
        bias_md, dst, {1, 1}, {s.pad_top, pad}, {s.pad_bottom, pad});
    dnnl::post_ops ops;
    if (s.accumulate) ops.append_sum(1.0f);
    if (post == PostOp::Relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    if (post == PostOp::Sigmoid) {
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_logistic, 0.0f, 0.0f);
    }
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);

    const dnnl::memory::desc plain(wdims, dt::f32, groups == 1 ? tag::oihw : tag::goihw);
    dnnl::memory user(plain, engine, weight.data_ptr<float>());
    dnnl::memory packed(pd.weights_desc(), engine);
    dnnl::stream stream(engine);
    dnnl::reorder(user, packed).execute(stream, user, packed);
    stream.wait();
    Prepared p{dnnl::convolution_forward(pd), packed, pd.scratchpad_desc()};
    return prepared.emplace(s, std::move(p)).first->second;
  }

  void run(const float* src, float* dst, const Shape& s) const {
    const Prepared& p = prepare(s);
    auto& engine = cpu_engine();
    const int64_t out_rows = s.rows + s.pad_top + s.pad_bottom - k() + 1;
    // oneDNN takes a non-const handle; the source is only read.
    dnnl::memory src_mem({{1, in(), s.rows, s.width}, dt::f32, tag::nhwc}, engine,
                         const_cast<float*>(src));
    dnnl::memory dst_mem({{1, out(), out_rows, s.width}, dt::f32, tag::nhwc}, engine, dst);
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, dst_mem}};
    if (bias.defined()) {
      args.emplace(DNNL_ARG_BIAS,
                   dnnl::memory({{out()}, dt::f32, tag::a}, engine, bias.data_ptr<float>()));
    }
    if (const std::size_t bytes = p.scratchpad.get_size(); bytes > 0) {
      args.emplace(DNNL_ARG_SCRATCHPAD,
                   dnnl::memory(p.scratchpad, engine, thread_scratchpad(bytes)));
    }
    p.primitive.execute(cpu_stream(), args);
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
  impl_->run(src, dst, {in.rows(), width, pad_top, pad_bottom, accumulate});
}

void ConvKernel::pixels(const float* src, int64_t count, float* dst, bool accumulate) const {
  if (impl_->k() != 1) throw std::logic_error("ConvKernel::pixels: not a 1x1 kernel");
  if (count > 0) impl_->run(src, dst, {1, count, 0, 0, accumulate});
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
