#include "cli/commands/efficiency_report.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands/bench_cases.hpp"
#include "cli/commands/values.hpp"
#include "cli/process/exit_codes.hpp"
#include "fdiwn/environment.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"

namespace fdiwn::cli {

namespace {

constexpr const char* kNtireSize = "256x256";
constexpr int kDefaultRepeat = 10;

}  // namespace

int run_efficiency(const SpeedArgs& args) {
  const std::vector<int> scales = args.scales.empty() ? std::vector<int>{2, 3, 4} : args.scales;
  std::vector<cv::Size> sizes;
  for (const auto& s : split(args.sizes.empty() ? kNtireSize : args.sizes, ',')) {
    sizes.push_back(parse_size(s, "--sizes"));
  }
  if (sizes.empty()) throw InvalidArgument("--sizes cannot be empty");
  const int repeat = args.repeat < 0 ? kDefaultRepeat : args.repeat;
  const int threads = args.threads > 0 ? args.threads : default_thread_count();
  std::printf(
      "FDIWN efficiency (LibTorch %s, %d threads, %s path): counted from the loaded network; "
      "activations are the elements of every convolution's output (NTIRE); runtime is the "
      "mean and sample standard deviation of %d timed pass%s after one untimed pass at that "
      "size, each case in a process of its own\n",
      torch_version().c_str(), threads, to_string(args.path), repeat, repeat == 1 ? "" : "es");
  std::printf("%-5s %-10s %10s %10s %14s %9s %9s %22s\n", "scale", "LR size", "params", "GMACs",
              "M activations", "peak MiB", "pass MiB", "runtime ms");
  nlohmann::json rows = nlohmann::json::array();
  int code = kExitOk;
  for (int scale : scales) {
    for (const cv::Size& size : sizes) {
      const std::string size_text = std::to_string(size.width) + "x" + std::to_string(size.height);
      const CaseResult r = run_case({scale, size, args.path, threads}, repeat);
      if (!r.ok) {
        std::printf("x%-4d %-10s failed: %s\n", scale, size_text.c_str(), r.error.c_str());
        code = kExitFailed;
        continue;
      }
      const double pixels = static_cast<double>(size.area());
      const double macs = static_cast<double>(r.macs_per_pixel) * pixels;
      const double activations = static_cast<double>(r.activations_per_pixel) * pixels;
      const long pass_kib = std::max(0L, r.peak_kib - r.loaded_kib);
      char runtime[48];
      std::snprintf(runtime, sizeof runtime, "%.1f \xC2\xB1 %.1f", r.mean_ms, r.sd_ms);
      std::printf("x%-4d %-10s %10lld %10.2f %14.1f %9ld %9ld %22s\n", scale, size_text.c_str(),
                  static_cast<long long>(r.parameters), macs / 1e9, activations / 1e6,
                  r.peak_kib / 1024, pass_kib / 1024, runtime);
      std::fflush(stdout);
      rows.push_back({{"scale", scale},
                      {"width", size.width},
                      {"height", size.height},
                      {"parameters", r.parameters},
                      {"macs", static_cast<int64_t>(macs)},
                      {"activations", static_cast<int64_t>(activations)},
                      {"macs_per_pixel", r.macs_per_pixel},
                      {"activations_per_pixel", r.activations_per_pixel},
                      {"peak_rss_mib", r.peak_kib / 1024},
                      {"pass_mib", pass_kib / 1024},
                      {"mean_ms", r.mean_ms},
                      {"sd_ms", r.sd_ms},
                      {"median_ms", r.median_ms},
                      {"first_ms", r.first_ms}});
    }
  }
  if (!args.json.empty()) {
    const nlohmann::json doc = {{"threads", threads},
                                {"path", to_string(args.path)},
                                {"repeat", repeat},
                                {"efficiency", rows}};
    write_file(args.json, doc.dump(2) + "\n");
  }
  return code;
}

}  // namespace fdiwn::cli
