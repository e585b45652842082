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

namespace {

std::string size_text(cv::Size size) {
  return std::to_string(size.width) + "x" + std::to_string(size.height);
}

// Prints one row of the table (first ms and peak left blank for passes timed
// in another case's process) and returns it for --json.
nlohmann::json print_row(const BenchCase& c, const CaseResult& r, double median_ms,
                         bool own_process, const char* vs_plain, const char* vs_one) {
  const double area = c.size.area();
  const double gflops = 2.0 * static_cast<double>(r.macs_per_pixel) * area / median_ms * 1e3 / 1e9;
  const double us_per_pixel = median_ms * 1000 / area;
  std::printf("x%-4d %-10s %-7s %7d %10s %10.0f %8.2f %8.1f %9s %8s %8s\n", c.scale,
              size_text(c.size).c_str(), to_string(c.path), c.threads,
              own_process ? std::to_string(std::lround(r.first_ms)).c_str() : "-", median_ms,
              us_per_pixel, gflops, own_process ? std::to_string(r.peak_kib / 1024).c_str() : "-",
              vs_plain, vs_one);
  std::fflush(stdout);
  nlohmann::json row = {{"scale", c.scale},
                        {"width", c.size.width},
                        {"height", c.size.height},
                        {"path", to_string(c.path)},
                        {"threads", c.threads},
                        {"median_ms", median_ms},
                        {"us_per_pixel", us_per_pixel},
                        {"mp_per_second", area / 1e6 / (median_ms / 1000)},
                        {"gflop_per_second", gflops},
                        {"macs_per_pixel", r.macs_per_pixel}};
  if (own_process) {
    row["first_ms"] = r.first_ms;
    row["peak_rss_mib"] = r.peak_kib / 1024;
  }
  return row;
}

}  // namespace

int run_speed(const SpeedArgs& args) {
  if (!args.child_case.empty()) return run_case_child(args.child_case, args.repeat, args.threads);
  if (!args.json.empty()) check_report_path(args.json, "--json");
  if (args.efficiency) return run_efficiency(args);
  const int repeat = args.repeat < 0 ? 1 : args.repeat;
  std::vector<int> scales = args.scales.empty() ? std::vector<int>{2, 3, 4} : args.scales;
  std::vector<cv::Size> sizes;
  for (const auto& s : split_list(args.sizes.empty() ? kSpeedSizes : args.sizes, "--sizes")) {
    sizes.push_back(parse_size(s, "--sizes"));
  }
  std::vector<Path> paths;
  for (const auto& p : split_list(args.paths, "--paths")) {
    try {
      paths.push_back(parse_path(p));
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string("--paths: ") + e.what());
    }
  }
  if (sizes.empty() || paths.empty()) throw InvalidArgument("--sizes and --paths cannot be empty");

  const int threads = args.threads > 0 ? args.threads : default_thread_count();
  const bool paired =
      threads > 1 && std::find(paths.begin(), paths.end(), Path::Engine) != paths.end();
  std::printf(
      "LibTorch %s, OpenCV %s, %d threads; whole-image passes on synthetic images, "
      "each case in its own process%s; timed: %d pass%s after one at that size\n",
      torch_version().c_str(), opencv_version().c_str(), threads,
      paired ? " (the engine on 1 thread in the one on all threads, their passes paired)" : "",
      repeat, repeat == 1 ? "" : "es");
  std::printf("%-5s %-10s %-7s %7s %10s %10s %8s %8s %9s %8s %8s\n", "scale", "LR size", "path",
              "threads", "first ms", "median ms", "us/px", "GFLOP/s", "peak MiB", "vs plain",
              "vs 1 thr");
  nlohmann::json rows = nlohmann::json::array();
  int code = kExitOk;
  for (int scale : scales) {
    for (const auto& size : sizes) {
      // Every path on all the threads; the engine on one thread as well, for
      // its scaling, its passes alternating with those on all threads in
      // the same process (the ratio is the median of each pair's).
      double plain_ms = 0;
      for (Path path : paths) {
        BenchCase c{scale, size, path, threads};
        if (path == Path::Engine && paired) c.paired_threads = 1;
        const CaseResult r = run_case(c, repeat);
        if (!r.ok) {
          std::printf("x%-4d %-10s %-7s %7d failed: %s\n", scale, size_text(size).c_str(),
                      to_string(c.path), c.threads, r.error.c_str());
          code = kExitFailed;
          continue;
        }
        char vs_plain[16] = "";
        if (path == Path::Plain) plain_ms = r.median_ms;
        if (path == Path::Engine && plain_ms > 0) {
          std::snprintf(vs_plain, sizeof vs_plain, "%.2fx", plain_ms / r.median_ms);
        }
        rows.push_back(print_row(c, r, r.median_ms, true, vs_plain, ""));
        if (c.paired_threads > 0) {
          char vs_one[16];
          std::snprintf(vs_one, sizeof vs_one, "%.2fx", r.paired_ratio);
          nlohmann::json row = print_row({scale, size, path, c.paired_threads}, r,
                                         r.paired_median_ms, false, "", vs_one);
          row["paired_with_threads"] = threads;
          row["vs_one_thread"] = r.paired_ratio;
          rows.push_back(row);
        }
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
