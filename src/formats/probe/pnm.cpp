// Netpbm: PBM, PGM, PPM (plain and raw), PAM and PFM headers.
#include "formats/probe/probers.hpp"

#include <string>

namespace fdiwn::probe {

namespace {

class PnmHeader {
 public:
  PnmHeader(const ByteView& in, const std::string& path) : in_(in), path_(path) {}

  // Skips white space and '#' comments (to the end of the line).
  void skip_space() {
    while (pos_ < in_.size()) {
      const uint32_t c = in_.u8(pos_);
      if (is_space(c)) {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < in_.size() && in_.u8(pos_) != '\n' && in_.u8(pos_) != '\r') ++pos_;
      } else {
        break;
      }
    }
  }

  // A decimal number; values past 2^32 are refused (no overflow, and no
  // dimension or maxval needs them).
  uint64_t number(const char* what) {
    skip_space();
    if (pos_ >= in_.size()) fail(path_, std::string("truncated PNM header: no ") + what);
    if (!is_digit(in_.u8(pos_))) fail(path_, std::string("broken PNM header: invalid ") + what);
    uint64_t v = 0;
    while (pos_ < in_.size() && is_digit(in_.u8(pos_))) {
      v = v * 10 + (in_.u8(pos_++) - '0');
      if (v > 0xFFFFFFFFu) fail(path_, std::string("broken PNM header: ") + what + " out of range");
    }
    return v;
  }

  // A PAM keyword (a run of non-space bytes, at most 16 of them kept).
  std::string word() {
    skip_space();
    std::string w;
    while (pos_ < in_.size() && !is_space(in_.u8(pos_))) {
      if (w.size() < 16) w += static_cast<char>(in_.u8(pos_));
      ++pos_;
    }
    return w;
  }

  void skip_line() {
    while (pos_ < in_.size() && in_.u8(pos_) != '\n') ++pos_;
  }

  bool at_end() const { return pos_ >= in_.size(); }

 private:
  ByteView in_;
  const std::string& path_;
  size_t pos_ = 2;  // after the magic number
};

int bits_for_maxval(uint64_t maxval) {
  int bits = 0;
  while (maxval > 0) {
    ++bits;
    maxval >>= 1;
  }
  return bits;
}

}  // namespace

bool is_pnm(const ByteView& in) {
  // The magic number must be followed by white space, as OpenCV requires.
  if (in.u8(0) != 'P' || !in.has(0, 3) || !is_space(in.u8(2))) return false;
  const uint32_t kind = in.u8(1);
  return (kind >= '1' && kind <= '7') || kind == 'F' || kind == 'f';
}

ImageProbe probe_pnm(const ByteView& in, const std::string& path) {
  ImageProbe p;
  p.format = ImageFormat::Pnm;
  PnmHeader h(in, path);
  const uint32_t kind = in.u8(1);
  if (kind == '7') {  // PAM: "KEY value" lines up to ENDHDR
    uint64_t width = 0, height = 0, depth = 0, maxval = 0;
    for (;;) {  // each turn consumes a word or ends
      if (h.at_end()) fail(path, "truncated PNM header: no ENDHDR");
      const std::string key = h.word();
      if (key == "ENDHDR") break;
      if (key == "WIDTH") {
        width = h.number("width");
      } else if (key == "HEIGHT") {
        height = h.number("height");
      } else if (key == "DEPTH") {
        depth = h.number("depth");
      } else if (key == "MAXVAL") {
        maxval = h.number("maxval");
      } else {
        h.skip_line();  // TUPLTYPE and unknown keys
      }
    }
    if (depth < 1 || depth > 4 || maxval < 1 || maxval > 65535) {
      fail(path, "broken PNM header: invalid PAM depth or maxval");
    }
    set_size(p, width, height, path);
    p.channels = static_cast<int>(depth);
    p.bit_depth = bits_for_maxval(maxval);
    p.max_value = static_cast<int>(maxval);
    p.transparency = depth == 2 || depth == 4;
    return p;
  }
  const uint64_t width = h.number("width");
  const uint64_t height = h.number("height");
  set_size(p, width, height, path);
  if (kind == 'F' || kind == 'f') {  // PFM: float samples, then a scale we do not need
    p.channels = kind == 'F' ? 3 : 1;
    p.bit_depth = 32;
    return p;
  }
  p.channels = (kind == '3' || kind == '6') ? 3 : 1;
  p.text_samples = kind >= '1' && kind <= '3';
  if (kind == '1' || kind == '4') {  // PBM has no maxval
    p.bit_depth = 1;
    return p;
  }
  const uint64_t maxval = h.number("maxval");
  if (maxval < 1 || maxval > 65535) fail(path, "broken PNM header: maxval out of range");
  p.bit_depth = bits_for_maxval(maxval);
  p.max_value = static_cast<int>(maxval);
  return p;
}

}  // namespace fdiwn::probe
