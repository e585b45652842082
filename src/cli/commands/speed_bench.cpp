#include "cli/commands/speed_bench.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cli/commands/values.hpp"
#include "cli/process/exit_codes.hpp"
#include "cli/report/library_messages.hpp"
#include "fdiwn/environment.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"
#include "fdiwn/image_io.hpp"
#include "fdiwn/upscaler.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Case {
  int scale;
  cv::Size size;
  Path path;
  int threads;  ///< 0: all cores
};

struct CaseResult {
  double first_ms = 0;   ///< the first pass at this size (cold: allocation, kernel set-up)
  double median_ms = 0;  ///< the median of the timed passes
  long peak_kib = 0;
  int64_t macs_per_pixel = 0;
  bool ok = false;
  std::string error;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

cv::Size parse_size(const std::string& s) {
  int w = 0, h = 0;
  char x = 0;
  std::istringstream in(s);
  if (!(in >> w >> x >> h) || x != 'x' || w < 1 || h < 1 || !in.eof()) {
    throw InvalidArgument("--sizes: '" + s + "' is not WIDTHxHEIGHT");
  }
  return {w, h};
}

// A deterministic picture with edges, gradients and texture: the network's
// speed does not depend on content, but its attention statistics should be
// those of an image.
cv::Mat synthetic_image(cv::Size size) {
  cv::Mat img(size, CV_8UC3);
  cv::RNG rng(1234);
  rng.fill(img, cv::RNG::UNIFORM, 0, 255);
  cv::GaussianBlur(img, img, cv::Size(0, 0), 2.0);
  for (int i = 0; i < 20; ++i) {
    const cv::Point a(rng.uniform(0, size.width), rng.uniform(0, size.height));
    const cv::Point b(rng.uniform(0, size.width), rng.uniform(0, size.height));
    cv::rectangle(img, a, b,
                  cv::Scalar(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)),
                  std::max(1, size.width / 100));
  }
  return img;
}

// Child side: one case, result as one JSON line on stdout.
int run_child(const std::string& spec, int repeat, int threads) {
  const auto parts = split(spec, ':');
  if (parts.size() != 3) throw InvalidArgument("bad --speed-case");
  UpscalerOptions options;
  options.scale = std::stoi(parts[0]);
  options.path = parse_path(parts[2]);
  options.threads = threads;
  const cv::Size size = parse_size(parts[1]);
  nlohmann::json out;
  try {
    const Upscaler up(options);
    up.upscale(synthetic_image({64, 64}), Mode::Whole);  // libraries warm
    const cv::Mat img = synthetic_image(size);
    std::vector<double> ms;
    for (int i = 0; i < 1 + repeat; ++i) {
      const auto start = Clock::now();
      up.upscale(img, Mode::Whole);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::vector<double> timed(ms.begin() + (repeat > 0 ? 1 : 0), ms.end());
    std::sort(timed.begin(), timed.end());
    out = {{"first_ms", ms.front()},
           {"median_ms", timed[timed.size() / 2]},
           {"macs_per_pixel", up.macs_per_pixel()}};
  } catch (const std::exception& e) {
    out = {{"error", e.what()}};
  }
  std::printf("%s\n", out.dump().c_str());
  return kExitOk;
}

// Parent side: runs `fdiwn bench --speed-case ...` and reads its line.
CaseResult run_case(const Case& c, int repeat) {
  const std::string spec = std::to_string(c.scale) + ":" + std::to_string(c.size.width) + "x" +
                           std::to_string(c.size.height) + ":" + to_string(c.path);
  int pipe_fds[2];
  CaseResult result;
  if (::pipe(pipe_fds) != 0) throw Error("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw Error("fork failed");
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(original_stderr(), STDERR_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    const std::string rep = std::to_string(repeat), thr = std::to_string(c.threads);
    ::execl("/proc/self/exe", "fdiwn", "-q", "bench", "--speed-case", spec.c_str(), "--repeat",
            rep.c_str(), "-j", thr.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  result.peak_kib = usage.ru_maxrss;
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.contains("error")) {
      result.error = j.at("error").get<std::string>();
    } else {
      result.first_ms = j.at("first_ms");
      result.median_ms = j.at("median_ms");
      result.macs_per_pixel = j.at("macs_per_pixel");
      result.ok = true;
    }
  } catch (const std::exception&) {
    result.error = "the benchmark process failed (status " + std::to_string(status) + ")";
  }
  return result;
}

// Wall time of a whole `fdiwn upscale` on a 64x64 image: start-up, weights,
// one small image, exit.
double startup_seconds(int scale) {
  const fs::path dir = fs::temp_directory_path() / ("fdiwn-speed-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string in = (dir / "in.png").string(), out = (dir / "out.png").string();
  cv::imwrite(in, synthetic_image({64, 64}));
  double best = 1e9;
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(original_stderr(), STDERR_FILENO);
      const std::string s = std::to_string(scale);
      ::execl("/proc/self/exe", "fdiwn", "-q", "upscale", "-i", in.c_str(), "-o", out.c_str(), "-s",
              s.c_str(), "--overwrite", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return best;
}

}  // namespace

int run_speed(const SpeedArgs& args) {
  if (!args.child_case.empty()) return run_child(args.child_case, args.repeat, args.threads);
  std::vector<int> scales = args.scales.empty() ? std::vector<int>{2, 3, 4} : args.scales;
  std::vector<cv::Size> sizes;
  for (const auto& s : split(args.sizes, ',')) sizes.push_back(parse_size(s));
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
      torch_version().c_str(), opencv_version().c_str(), threads, args.repeat,
      args.repeat == 1 ? "" : "es");
  std::printf("%-5s %-10s %-7s %7s %10s %10s %8s %8s %9s %8s %8s\n", "scale", "LR size", "path",
              "threads", "first ms", "median ms", "us/px", "GFLOP/s", "peak MiB", "vs plain",
              "vs 1 thr");
  nlohmann::json rows = nlohmann::json::array();
  int code = kExitOk;
  for (int scale : scales) {
    for (const auto& size : sizes) {
      // Every path on all the threads; the engine on one thread as well, for
      // its scaling (the ratio is of two runs made one after the other).
      std::vector<Case> cases;
      for (Path path : paths) cases.push_back({scale, size, path, threads});
      if (threads > 1 && std::find(paths.begin(), paths.end(), Path::Engine) != paths.end()) {
        cases.push_back({scale, size, Path::Engine, 1});
      }
      double plain_ms = 0, engine_ms = 0;
      for (const Case& c : cases) {
        const CaseResult r = run_case(c, args.repeat);
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
    const nlohmann::json doc = {{"threads", threads},
                                {"repeat", args.repeat},
                                {"cases", rows},
                                {"startup_seconds", startup}};
    const std::string text = doc.dump(2) + "\n";
    write_file(args.json, text);
  }
  return code;
}

}  // namespace fdiwn::cli
