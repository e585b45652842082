// WIRW, WCRW and the WDIB as band passes (see passes.hpp). A WDIB is twelve
// passes, one per global statistic it waits for (and what each writes):
//   1 srb1's body (t1)                    7 oa2, ob2, over oa and ob
//   2 lrelu(srb1) = [da, ra], rb1 (t2, oa) 8 srb3, srb4 bodies (t5, t6)
//   3 oa = rb1's output (A1's statistics)  9 pa, pb over t5, t6
//   4 srb2's body on ob1 (t3)              10 fuse1's body and terms (t7, r)
//   5 lrelu(srb2) = [db, rb], rb2 (t4, ob) 11 fuse1's output over r
//   6 ob = rb2's output (B2's statistics)  12 y = SA(u) over r
// Maps are written over where no band reads another's rows, and oa1 and ob1
// are recomputed rather than kept: at most five 24-channel maps (x
// included) are alive at once.
#include <algorithm>

#include "engine/passes.hpp"

namespace fdiwn::engine {

namespace {

// Bytes of input, intermediate and output per run of the 1x1 pair: inside
// L2 with room for the band's other data.
constexpr int64_t kRunBytes = 512 << 10;

constexpr float kLeakySlope = 0.05f;  // the WDIB's LeakyReLU

// The largest power of two at most n (n >= 1).
int64_t power_of_two_at_most(int64_t n) {
  int64_t p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

// dst = second(first(src)) on `count` pixels through oneDNN, where the
// fused kernel (pointwise_pair.hpp) is not there: in runs whose wide
// intermediate stays in cache. Runs are a power of two long (the last one
// overlaps its predecessor), so the kernels need a handful of shapes for
// every image size, made once per process.
void pointwise_pair(const ConvKernel& first, const ConvKernel& second, const float* src,
                    int64_t count, float* dst, Scratch& scratch) {
  const int64_t in = first.in_channels(), wide = first.out_channels(), out = second.out_channels();
  const int64_t fits = kRunBytes / (int64_t{sizeof(float)} * (in + wide + out));
  const int64_t run = power_of_two_at_most(std::max<int64_t>(1, std::min(count, fits)));
  float* mid = scratch.take(run * wide);
  for (int64_t p0 = 0; p0 < count; p0 += run) {
    const int64_t start = std::min(p0, count - run);
    first.pixels(src + start * in, run, mid);
    second.pixels(mid, run, dst + start * out);
  }
}

// Pixels of rows `s`, and the offset of `inner` in them.
int64_t pixels(const Frame& f, Span s) {
  return s.rows() * f.width;
}
int64_t offset(const Frame& f, Span outer, Span inner) {
  return (inner.lo - outer.lo) * f.width;
}

}  // namespace

void run_body(const BodyKernels& body, const float* in, Span in_rows, Span band, const Frame& f,
              float* out, Scratch& scratch) {
  const int64_t px = pixels(f, in_rows);
  float* narrow = scratch.take(px * body.squeeze.out_channels());
  if (body.pair) {
    body.pair->pixels(in, px, narrow);
  } else {
    pointwise_pair(body.expand_relu, body.squeeze, in, px, narrow, scratch);
  }
  body.spatial.rows(narrow, in_rows, band, f.height, f.width, out);
}

// A WDIB's distillation on one band: a = [d, r] (24 channels on rows h1,
// in scratch); d's band rows go to `distilled` (12 channels, dense), r
// through the WCRW u: its body's band rows to t, its residual's to res.
void distil(const WcrwKernels& u, const float* a, const Frame& f, Span h1, Span band,
            float* distilled, float* t, float* res, Scratch& s) {
  constexpr int kHalf = kC / 2;
  const int64_t px = pixels(f, h1);
  float* r = s.take(px * kHalf);
  ops::copy_channels(a + kHalf, kC, r, kHalf, kHalf, px);
  ops::copy_channels(a + offset(f, h1, band) * kC, kC, distilled, kHalf, kHalf, pixels(f, band));
  run_body(u.body, r, h1, band, f, t, s);
  u.residual.rows(r, h1, band, f.height, f.width, res);
}

// A WCRW's output, res_scale * SA(t) + r, written over its residual r (no
// band reads another's rows); returns the output's statistics.
Stats finish_wcrw(const WcrwKernels& u, const Pass& p, const Map& t, Map& r, const Gates& g) {
  const Frame& f = p.frame;
  BandStats st(f, kC);
  run_bands(f, [&](int64_t b, Scratch&) {
    const Span band = f.band(b);
    float* rb = r.row(band.lo);
    ops::attend(t.row(band.lo), g, u.res_scale, rb, 1.0f, 1.0f, rb, kC, pixels(f, band));
    st.add(b, rb, pixels(f, band));
  });
  return st.finish();
}

Map wirw_body(const WirwKernels& k, const Pass& p, const Map& x, Gates& gates) {
  const Frame& f = p.frame;
  Map t(p.pool, f, kC);
  BandStats st(f, kC);
  run_bands(f, [&](int64_t b, Scratch& s) {
    const Span band = f.band(b), h1 = f.around(band, 1);
    run_body(k.body, x.row(h1.lo), h1, band, f, t.row(band.lo), s);
    st.add(b, t.row(band.lo), pixels(f, band));
  });
  gates = k.attention.gates(st.finish());
  return t;
}

Features wirw(const WirwKernels& k, const Pass& p, const Features& x) {
  const Frame& f = p.frame;
  Gates g;
  const Map t = wirw_body(k, p, x.map, g);
  Features y{Map(p.pool, f, kC), {}};
  BandStats sy(f, kC);
  run_bands(f, [&](int64_t b, Scratch&) {
    const Span band = f.band(b);
    ops::attend(t.row(band.lo), g, k.res_scale, x.map.row(band.lo), k.x_scale, 1.0f,
                y.map.row(band.lo), kC, pixels(f, band));
    sy.add(b, y.map.row(band.lo), pixels(f, band));
  });
  y.stats = sy.finish();
  return y;
}

Features wcrw(const WcrwKernels& k, const Pass& p, const Map& x) {
  const Frame& f = p.frame;
  Map t(p.pool, f, kC);
  Features y{Map(p.pool, f, kC), {}};
  BandStats st(f, kC);
  run_bands(f, [&](int64_t b, Scratch& s) {
    const Span band = f.band(b), h1 = f.around(band, 1);
    run_body(k.body, x.row(h1.lo), h1, band, f, t.row(band.lo), s);
    k.residual.rows(x.row(h1.lo), h1, band, f.height, f.width, y.map.row(band.lo));
    st.add(b, t.row(band.lo), pixels(f, band));
  });
  y.stats = finish_wcrw(k, p, t, y.map, k.attention.gates(st.finish()));
  return y;
}

Features wdib(const WdibKernels& k, const Pass& p, const Features& x) {
  const Frame& f = p.frame;
  const int64_t H = f.height, W = f.width;
  constexpr int64_t kHalf = kC / 2;

  // 1: srb1's body.
  Gates g1;
  Map t1 = wirw_body(k.srb1, p, x.map, g1);
  // 2: a = lrelu(srb1(x)) = [da, ra]; rb1's body and residual on ra. The
  // distilled halves da and db (12 channels each, dense) share the block of
  // one 24-channel map: da in its first half, db in its second.
  Map distilled(p.pool, f, kC), t2(p.pool, f, kC), oa(p.pool, f, kC);
  const auto da = [&](int64_t row) { return distilled.row(0) + row * W * kHalf; };
  const auto db = [&](int64_t row) { return distilled.row(0) + (H + row) * W * kHalf; };
  Gates g2;
  {
    BandStats st(f, kC);
    run_bands(f, [&](int64_t b, Scratch& s) {
      const Span band = f.band(b), h1 = f.around(band, 1);
      const int64_t px = pixels(f, h1);
      float* a = s.take(px * kC);
      ops::attend(t1.row(h1.lo), g1, k.srb1.res_scale, x.map.row(h1.lo), k.srb1.x_scale,
                  kLeakySlope, a, kC, px);
      distil(k.rb1, a, f, h1, band, da(band.lo), t2.row(band.lo), oa.row(band.lo), s);
      st.add(b, t2.row(band.lo), pixels(f, band));
    });
    g2 = k.rb1.attention.gates(st.finish());
  }
  t1.reset();
  // 3: oa = rb1's output, over its residual.
  const Stats oa_stats = finish_wcrw(k.rb1, p, t2, oa, g2);
  t2.reset();
  // 4: ob1 = A1(oa) * oa + x, srb2's input (recomputed in 5, never kept);
  // oa1 = B1(x) * x + oa only counted here (recomputed in 7).
  const Weights wa1 = k.a1.weights(oa_stats), wb1 = k.b1.weights(x.stats);
  Map t3(p.pool, f, kC);
  Stats oa1_stats;
  Gates g3;
  {
    BandStats st(f, kC), st_oa1(f, kC);
    run_bands(f, [&](int64_t b, Scratch& s) {
      const Span band = f.band(b), h1 = f.around(band, 1);
      const int64_t px = pixels(f, h1), n = pixels(f, band);
      float* ob1 = s.take(px * kC);
      ops::interact_first(oa.row(h1.lo), x.map.row(h1.lo), wa1, wb1, ob1, nullptr, px);
      float* oa1 = s.take(n * kC);
      ops::interact_first(oa.row(band.lo), x.map.row(band.lo), wa1, wb1, nullptr, oa1, n);
      st_oa1.add(b, oa1, n);
      run_body(k.srb2.body, ob1, h1, band, f, t3.row(band.lo), s);
      st.add(b, t3.row(band.lo), n);
    });
    g3 = k.srb2.attention.gates(st.finish());
    oa1_stats = st_oa1.finish();
  }
  // 5: b = lrelu(srb2(ob1)) = [db, rb]; rb2's body and residual on rb.
  Map t4(p.pool, f, kC), ob(p.pool, f, kC);
  Gates g4;
  {
    BandStats st(f, kC);
    run_bands(f, [&](int64_t b, Scratch& s) {
      const Span band = f.band(b), h1 = f.around(band, 1);
      const int64_t px = pixels(f, h1);
      float* v = s.take(px * kC);
      ops::interact_first(oa.row(h1.lo), x.map.row(h1.lo), wa1, wb1, v, nullptr, px);
      ops::attend(t3.row(h1.lo), g3, k.srb2.res_scale, v, k.srb2.x_scale, kLeakySlope, v, kC, px);
      distil(k.rb2, v, f, h1, band, db(band.lo), t4.row(band.lo), ob.row(band.lo), s);
      st.add(b, t4.row(band.lo), pixels(f, band));
    });
    g4 = k.rb2.attention.gates(st.finish());
  }
  t3.reset();
  // 6: ob = rb2's output.
  const Stats ob_stats = finish_wcrw(k.rb2, p, t4, ob, g4);
  t4.reset();
  // 7: ob2 = (A2(oa1) * oa1 + ob) * sigmoid(cd1(db)), oa2 = (B2(ob) * ob +
  // oa1) * sigmoid(cd2(da)), written over ob and oa.
  const Weights wa2 = k.a2.weights(oa1_stats), wb2 = k.b2.weights(ob_stats);
  run_bands(f, [&](int64_t b, Scratch& s) {
    const Span band = f.band(b), h1 = f.around(band, 1);
    const int64_t n = pixels(f, band);
    float* s1 = s.take(n * kC);
    float* s2 = s.take(n * kC);
    k.distilled1_sigmoid.rows(db(h1.lo), h1, band, H, W, s1);
    k.distilled2_sigmoid.rows(da(h1.lo), h1, band, H, W, s2);
    ops::interact_second(x.map.row(band.lo), wb1, oa.row(band.lo), ob.row(band.lo), s1, s2, wa2,
                         wb2, n);
  });
  distilled.reset();
  Map& oa2 = oa;
  Map& ob2 = ob;
  // 8: the bodies of srb3 (on oa2) and srb4 (on ob2); then pa and pb over
  // them (no band reads another's rows of t5 and t6 there).
  Map pa(p.pool, f, kC), pb(p.pool, f, kC);
  {
    BandStats st5(f, kC), st6(f, kC);
    run_bands(f, [&](int64_t b, Scratch& s) {
      const Span band = f.band(b), h1 = f.around(band, 1);
      run_body(k.srb3.body, oa2.row(h1.lo), h1, band, f, pa.row(band.lo), s);
      run_body(k.srb4.body, ob2.row(h1.lo), h1, band, f, pb.row(band.lo), s);
      st5.add(b, pa.row(band.lo), pixels(f, band));
      st6.add(b, pb.row(band.lo), pixels(f, band));
    });
    const Gates g5 = k.srb3.attention.gates(st5.finish());
    const Gates g6 = k.srb4.attention.gates(st6.finish());
    run_bands(f, [&](int64_t b, Scratch&) {
      const Span band = f.band(b);
      const int64_t n = pixels(f, band);
      float* t5 = pa.row(band.lo);
      float* t6 = pb.row(band.lo);
      ops::attend(t5, g5, k.srb3.res_scale, oa2.row(band.lo), k.srb3.x_scale, 1.0f, t5, kC, n);
      ops::attend(t6, g6, k.srb4.res_scale, ob2.row(band.lo), k.srb4.x_scale, 1.0f, t6, kC, n);
    });
  }
  oa2.reset();
  ob2.reset();
  // 9: c = [pa, pb] (unscaled: the scales are in fuse1 and fuse2); fuse1's
  // body, and r = fuse1's residual + sigmoid(fuse2(c)) * pb + x.
  Map t7(p.pool, f, kC), r(p.pool, f, kC);
  Gates g7;
  {
    BandStats st(f, kC);
    run_bands(f, [&](int64_t b, Scratch& s) {
      const Span band = f.band(b), h1 = f.around(band, 1);
      const int64_t px = pixels(f, h1), in = offset(f, h1, band), n = pixels(f, band);
      float* c = s.take(px * 2 * kC);
      ops::copy_channels(pa.row(h1.lo), kC, c, 2 * kC, kC, px);
      ops::copy_channels(pb.row(h1.lo), kC, c + kC, 2 * kC, kC, px);
      run_body(k.fuse1.body, c, h1, band, f, t7.row(band.lo), s);
      k.fuse1.residual.rows(c, h1, band, H, W, r.row(band.lo));
      float* f2 = s.take(n * kC);
      const float* cb = c + in * 2 * kC;
      k.fuse2_sigmoid.pixels(cb, n, f2);
      ops::add_gated(r.row(band.lo), f2, cb + kC, 2 * kC, x.map.row(band.lo), n);
      st.add(b, t7.row(band.lo), n);
    });
    g7 = k.fuse1.attention.gates(st.finish());
  }
  pa.reset();
  pb.reset();
  // 10: u = fuse1's output + the terms, over r; 11: y = SA(u), over it again.
  const Stats u_stats = finish_wcrw(k.fuse1, p, t7, r, g7);
  t7.reset();
  const Gates gy = k.attention.gates(u_stats);
  BandStats sy(f, kC);
  run_bands(f, [&](int64_t b, Scratch&) {
    const Span band = f.band(b);
    float* v = r.row(band.lo);
    ops::attend(v, gy, 1.0f, nullptr, 0.0f, 1.0f, v, kC, pixels(f, band));
    sy.add(b, v, pixels(f, band));
  });
  return {std::move(r), sy.finish()};
}

}  // namespace fdiwn::engine
