#include "cli/batch/upscale_passes.hpp"

#include <opencv2/imgproc.hpp>

namespace fdiwn::cli {

cv::Mat upscale_to_plan(Upscaler& upscaler, const cv::Mat& in, const SizePlan& plan, Mode mode,
                        const std::function<void(double)>& progress,
                        std::vector<std::string>& notes) {
  cv::Mat out;
  for (int pass = 0; pass < plan.passes; ++pass) {
    out = upscaler.upscale(pass == 0 ? in : out, mode,
                           [&, pass](double f) { progress((pass + f) / plan.passes); });
  }
  if (plan.resize) {
    // Area averaging: the high-quality way down (no ringing, no aliasing),
    // the result of a larger network pass.
    cv::Mat fitted;
    cv::resize(out, fitted, plan.target, 0, 0, cv::INTER_AREA);
    out = fitted;
  }
  if (plan.passes > 1 || plan.resize) {
    const int s = upscaler.scale();
    notes.push_back(std::to_string(plan.passes) + " network pass" + (plan.passes > 1 ? "es" : "") +
                    " at x" + std::to_string(s) +
                    (plan.resize ? ", then resized to " + std::to_string(plan.target.width) + "x" +
                                       std::to_string(plan.target.height) + " (area)"
                                 : ""));
  }
  return out;
}

}  // namespace fdiwn::cli
