// The FSWG as band passes (see passes.hpp):
//   MY1, MY2 -> o1, o11;  in3 = o11 + conv(o1) and c1 = conv1(shuffle4([o1, o11]));
//   MY3(in3) -> o3;  rb1's body on d;  d (+)= scale_x * (conv2(shuffle4([c1, o3])) + o3)
//                                            + scale_res * rb1(d)
// The 4-group channel shuffles of the concatenations are built per band in
// cache, never as maps.
#include "engine/passes.hpp"

namespace fdiwn::engine {

namespace {

// Channel c of the first / second concatenated source lands here after the
// FSWG's 4-group channel shuffle of a 48-channel concatenation.
std::array<int, kC> shuffle4_position(int source) {
  std::array<int, kC> to{};
  for (int c = 0; c < kC; ++c) to[c] = (c % 12) * 4 + 2 * source + c / 12;
  return to;
}

// shuffle4([first, second]) on rows `s`, into the band's scratch.
float* shuffled_pair(const Frame& f, const Map& first, const Map& second, Span s,
                     Scratch& scratch) {
  static const std::array<int, kC> to_first = shuffle4_position(0),
                                   to_second = shuffle4_position(1);
  const int64_t px = s.rows() * f.width;
  float* cat = scratch.take(px * 2 * kC);
  ops::scatter(first.row(s.lo), cat, 2 * kC, to_first, px);
  ops::scatter(second.row(s.lo), cat, 2 * kC, to_second, px);
  return cat;
}

}  // namespace

void fswg(const FswgKernels& k, const Pass& p, Features& d, bool add_input) {
  const Frame& f = p.frame;
  const int64_t H = f.height, W = f.width;
  Features o1 = wdib(k.my1, p, d);
  Features o11 = wdib(k.my2, p, o1);
  Features in3{Map(p.pool, f, kC), {}};
  Map c1(p.pool, f, kC);
  {
    BandStats st(f, kC);
    run_bands(f, [&](int64_t b, Scratch& s) {
      const Span band = f.band(b), h1 = f.around(band, 1);
      const int64_t n = band.rows() * W;
      const float* cat = shuffled_pair(f, o1.map, o11.map, h1, s);
      k.conv1.rows(cat, h1, band, H, W, c1.row(band.lo));
      std::copy(o11.map.row(band.lo), o11.map.row(band.lo) + n * kC, in3.map.row(band.lo));
      k.conv.rows(o1.map.row(h1.lo), h1, band, H, W, in3.map.row(band.lo), /*accumulate=*/true);
      st.add(b, in3.map.row(band.lo), n);
    });
    in3.stats = st.finish();
  }
  o1.map.reset();
  o11.map.reset();
  Features o3 = wdib(k.my3, p, in3);
  in3.map.reset();
  // rb1's body on d; then everything is added over d, band by band (no band
  // reads another's rows of d in that last pass).
  Gates g;
  const Map t = wirw_body(k.rb1, p, d.map, g);
  BandStats st(f, kC);
  run_bands(f, [&](int64_t b, Scratch& s) {
    const Span band = f.band(b), h1 = f.around(band, 1);
    const int64_t n = band.rows() * W;
    float* y = d.map.row(band.lo);
    ops::attend(t.row(band.lo), g, k.scale_res * k.rb1.res_scale, y,
                k.scale_res * k.rb1.x_scale + (add_input ? 1.0f : 0.0f), 1.0f, y, kC, n);
    ops::axpy(y, k.scale_x, o3.map.row(band.lo), n * kC);
    const float* cat = shuffled_pair(f, c1, o3.map, h1, s);
    k.conv2.rows(cat, h1, band, H, W, y, /*accumulate=*/true);
    st.add(b, y, n);
  });
  d.stats = st.finish();
}

}  // namespace fdiwn::engine
