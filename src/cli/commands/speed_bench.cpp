#include "cli/commands/speed_bench.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "cli/commands/bench_cases.hpp"
#include "cli/commands/efficiency_report.hpp"
#include "cli/commands/values.hpp"
#include "cli/process/exit_codes.hpp"
#include "cli/report/library_messages.hpp"
#include "fdiwn/environment.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"
#include "fdiwn/image_io.hpp"
#include "fdiwn/upscaler.hpp"

namespace fdiwn::cli {

int run_speed(const SpeedArgs& args) {
  if (!args.child_case.empty()) return run_case_child(args.child_case, args.repeat, args.threads);
  if (args.efficiency) return run_efficiency(args);
  const int repeat = args.repeat < 0 ? 1 : args.repeat;
  std::vector<int> scales = args.scales.empty() ? std::vector<int>{2, 3, 4} : args.scales;
  std::vector<cv::Size> sizes;
  for (const auto& s : split(args.sizes.empty() ? kSpeedSizes : args.sizes, ',')) {
    sizes.push_back(parse_size(s, "--sizes"));
  }
  std::vector<Path> paths;
  for (const auto& p : split(args.paths, ',')) {
    try {
      paths.push_back(parse_path(p));
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string("--paths: ") + e.what());
    }
  }
  if (sizes.empty() || paths.empty()) throw InvalidArgument("--sizes and --paths cannot be empty");

  const int threads = args.threads > 0 ? args.threads : default_thread_count();
  std::printf(
      "LibTorch %s, OpenCV %s, %d threads; whole-image passes on synthetic images, "
      "each case in its own process; timed: %d pass%s after one at that size\n",
      torch_version().c_str(), opencv_version().c_str(), threads, repeat, repeat == 1 ? "" : "es");
  std::printf("%-5s %-10s %-7s %7s %10s %10s %8s %8s %9s %8s %8s\n", "scale", "LR size", "path",
              "threads", "first ms", "median ms", "us/px", "GFLOP/s", "peak MiB", "vs plain",
              "vs 1 thr");
  nlohmann::json rows = nlohmann::json::array();
  int code = kExitOk;
  for (int scale : scales) {
    for (const auto& size : sizes) {
      // Every path on all the threads; the engine on one thread as well, for
      // its scaling (the ratio is of two runs made one after the other).
      std::vector<BenchCase> cases;
      for (Path path : paths) cases.push_back({scale, size, path, threads});
      if (threads > 1 && std::find(paths.begin(), paths.end(), Path::Engine) != paths.end()) {
        cases.push_back({scale, size, Path::Engine, 1});
      }
      double plain_ms = 0, engine_ms = 0;
      for (const BenchCase& c : cases) {
        const CaseResult r = run_case(c, repeat);
        const std::string size_text =
            std::to_string(size.width) + "x" + std::to_string(size.height);
        if (!r.ok) {
          std::printf("x%-4d %-10s %-7s %7d failed: %s\n", scale, size_text.c_str(),
                      to_string(c.path), c.threads, r.error.c_str());
          code = kExitFailed;
          continue;
        }
        const double seconds = r.median_ms / 1000;
        const double gflops =
            2.0 * static_cast<double>(r.macs_per_pixel) * size.area() / seconds / 1e9;
        const double us_per_pixel = r.median_ms * 1000 / size.area();
        char vs_plain[16] = "", vs_one[16] = "";
        if (c.path == Path::Plain) plain_ms = r.median_ms;
        if (c.path == Path::Engine && c.threads == threads) {
          engine_ms = r.median_ms;
          if (plain_ms > 0)
            std::snprintf(vs_plain, sizeof vs_plain, "%.2fx", plain_ms / r.median_ms);
        }
        if (c.path == Path::Engine && c.threads == 1 && threads > 1 && engine_ms > 0) {
          std::snprintf(vs_one, sizeof vs_one, "%.2fx", r.median_ms / engine_ms);
        }
        std::printf("x%-4d %-10s %-7s %7d %10.0f %10.0f %8.2f %8.1f %9ld %8s %8s\n", scale,
                    size_text.c_str(), to_string(c.path), c.threads, r.first_ms, r.median_ms,
                    us_per_pixel, gflops, r.peak_kib / 1024, vs_plain, vs_one);
        std::fflush(stdout);
        rows.push_back({{"scale", scale},
                        {"width", size.width},
                        {"height", size.height},
                        {"path", to_string(c.path)},
                        {"threads", c.threads},
                        {"first_ms", r.first_ms},
                        {"median_ms", r.median_ms},
                        {"us_per_pixel", us_per_pixel},
                        {"mp_per_second", size.area() / 1e6 / seconds},
                        {"gflop_per_second", gflops},
                        {"macs_per_pixel", r.macs_per_pixel},
                        {"peak_rss_mib", r.peak_kib / 1024}});
      }
    }
  }
  const double startup = startup_seconds(scales.front());
  std::printf(
      "start-up (fdiwn upscale of a 64x64 image at x%d, whole process, best of 3): %.2f s\n",
      scales.front(), startup);
  if (!args.json.empty()) {
    const nlohmann::json doc = {
        {"threads", threads}, {"repeat", repeat}, {"cases", rows}, {"startup_seconds", startup}};
    const std::string text = doc.dump(2) + "\n";
    write_report(args.json, text);
  }
  return code;
}

}  // namespace fdiwn::cli
