#include "cli/batch/output_size.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fdiwn/errors.hpp"

namespace fdiwn::cli {

namespace {

int rounded(double v) {
  return std::max(1, static_cast<int>(std::lround(v)));
}

}  // namespace

std::string factor_text(double f) {
  char buf[32];
  // Three digits, or more where three would round onto a whole number the
  // factor is not (found by hand: x16.03 was "x16 is more than x16").
  for (const char* format : {"%.3g", "%.6g"}) {
    std::snprintf(buf, sizeof buf, format, f);
    const double shown = std::strtod(buf, nullptr);
    if (shown == f || shown != std::round(shown)) break;
  }
  return buf;
}

int scale_for_factor(double factor) {
  for (int s : {2, 3, 4}) {
    if (s >= factor) return s;
  }
  for (int s : {3, 4}) {
    if (s * s >= factor) return s;
  }
  return 4;
}

SizePlan plan_size(const OutputSize& want, cv::Size input, int scale, const std::string& path) {
  SizePlan plan;
  plan.target = input * scale;
  if (!want.any()) return plan;
  const double w = input.width, h = input.height;
  double factor = want.factor;
  if (factor <= 0) {
    const double fw = want.width > 0 ? want.width / w : 0;
    const double fh = want.height > 0 ? want.height / h : 0;
    factor = fw > 0 && fh > 0 ? std::min(fw, fh) : std::max(fw, fh);
  }
  plan.target = cv::Size(rounded(w * factor), rounded(h * factor));
  // A side given exactly stays exact (rounding the other side's factor
  // must not move it).
  if (want.factor <= 0) {
    if (want.width > 0 && (want.height <= 0 || want.width / w <= want.height / h)) {
      plan.target.width = want.width;
    }
    if (want.height > 0 && (want.width <= 0 || want.height / h <= want.width / w)) {
      plan.target.height = want.height;
    }
  }
  const double needed = std::max(plan.target.width / w, plan.target.height / h);
  plan.passes = needed <= scale ? 1 : 2;
  if (needed > static_cast<double>(scale) * scale) {
    throw ImageError(
        path, "x" + factor_text(needed) + " (" + std::to_string(plan.target.width) + "x" +
                  std::to_string(plan.target.height) + ") is more than two passes at x" +
                  std::to_string(scale) + " reach (x" + std::to_string(scale * scale) + "); " +
                  (scale < 4 ? "use -s 4 or a smaller size" : "ask for a smaller size"));
  }
  const int reached = plan.passes == 1 ? scale : scale * scale;
  plan.resize = plan.target != input * reached;
  return plan;
}

}  // namespace fdiwn::cli
