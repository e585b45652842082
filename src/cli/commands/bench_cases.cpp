#include "cli/commands/bench_cases.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cli/commands/values.hpp"
#include "cli/process/exit_codes.hpp"
#include "cli/process/signals.hpp"
#include "cli/report/library_messages.hpp"
#include "fdiwn/errors.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

std::vector<std::string> split_list(const std::string& text, const std::string& option) {
  std::vector<std::string> items;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    // Found by hand: "32x32," and "engine,engine" (timed twice) passed.
    if (item.empty()) throw InvalidArgument(option + " '" + text + "': an empty item");
    if (std::find(items.begin(), items.end(), item) != items.end()) {
      throw InvalidArgument(option + " '" + text + "': " + item + " is given twice");
    }
    items.push_back(item);
  }
  if (items.empty() || text.back() == ',') {
    throw InvalidArgument(option + " '" + text + "': an empty item");
  }
  return items;
}

cv::Size parse_size(const std::string& s, const std::string& option) {
  int w = 0, h = 0;
  char x = 0;
  std::istringstream in(s);
  if (!(in >> w >> x >> h) || x != 'x' || w < 1 || h < 1 || !in.eof()) {
    throw InvalidArgument(option + ": '" + s + "' is not WIDTHxHEIGHT");
  }
  // As --max-pixels' default for images (found by hand: sides near 2^31
  // overflowed in OpenCV's drawing and crashed the benchmark's process).
  constexpr int kMostSide = 65535;
  constexpr int64_t kMostPixels = 100'000'000;
  if (w > kMostSide || h > kMostSide || int64_t{w} * h > kMostPixels) {
    throw InvalidArgument(option + ": '" + s +
                          "' is too large to benchmark (at most 65535 pixels a side and 100M "
                          "pixels)");
  }
  return {w, h};
}

namespace {

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

// The middle value, or the mean of the two middle ones.
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double milliseconds_of(const Upscaler& up, const cv::Mat& img) {
  const auto start = Clock::now();
  up.upscale(img, Mode::Whole);
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Starts this executable as `fdiwn -q ARGS...`, its stderr on fdiwn's own
// and its stdout on `stdout_fd` (-1: inherited). The stop signals are blocked
// from before fork until the new fdiwn has its handlers (the launcher keeps
// them blocked, install_signal_handlers unblocks them): a stop sent to the
// child before exec then waits for it, where it would otherwise reach the
// inherited handler that exec discards, and be lost.
pid_t spawn_self(const std::vector<std::string>& args, int stdout_fd) {
  std::vector<std::string> argv_text{"fdiwn", "-q"};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  sigset_t stops, before;
  sigemptyset(&stops);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stops, sig);
  ::pthread_sigmask(SIG_BLOCK, &stops, &before);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Killed with its parent (even by SIGKILL): no timing run left behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (stdout_fd >= 0) ::dup2(stdout_fd, STDOUT_FILENO);
    ::dup2(original_stderr(), STDERR_FILENO);
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  if (pid < 0) throw Error("fork failed");
  return pid;
}

}  // namespace

// Child side: one case, result as one JSON line on stdout.
int run_case_child(const std::string& spec, int repeat, int threads) {
  // The child writes nothing that could be left half done, and its network
  // pass does not look at the stop flag: a stop signal (Ctrl-C reaches the
  // whole process group; the parent forwards SIGTERM) ends it at once, and
  // one that came while it started up ends it here.
  end_at_stop_signals();
  const auto parts = split(spec, ':');
  if (parts.size() != 3 && parts.size() != 4) throw InvalidArgument("bad --speed-case");
  UpscalerOptions options;
  options.scale = std::stoi(parts[0]);
  options.path = parse_path(parts[2]);
  options.threads = threads;
  const int paired_threads = parts.size() == 4 ? std::stoi(parts[3]) : 0;
  repeat = std::max(repeat, 0);  // run by hand without --repeat: -1
  const cv::Size size = parse_size(parts[1], "--speed-case");
  nlohmann::json out;
  try {
    Upscaler up(options);
    up.upscale(synthetic_image({64, 64}), Mode::Whole);  // libraries warm
    const cv::Mat img = synthetic_image(size);
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const long loaded_kib = usage.ru_maxrss;
    const auto pass_on = [&](int t) {
      up.set_threads(t);
      return milliseconds_of(up, img);
    };
    const double first_ms = pass_on(threads);
    std::vector<double> timed, paired, ratios;
    const auto add_pair = [&](double own, double other) {
      paired.push_back(other);
      ratios.push_back(other / own);
    };
    if (repeat == 0) {
      timed.push_back(first_ms);
      if (paired_threads > 0) {
        up.release_memory();  // its first pass on fresh memory too
        add_pair(first_ms, pass_on(paired_threads));
      }
    } else {
      if (paired_threads > 0) pass_on(paired_threads);  // its untimed pass
      for (int i = 0; i < repeat; ++i) {
        // A B, then B A, A B...: neither side always runs second.
        const bool other_first = paired_threads > 0 && i % 2 == 1;
        const double before = other_first ? pass_on(paired_threads) : 0;
        timed.push_back(pass_on(threads));
        if (paired_threads > 0) {
          add_pair(timed.back(), other_first ? before : pass_on(paired_threads));
        }
      }
    }
    double sum = 0, sq = 0;
    for (double t : timed) sum += t;
    const double mean = sum / static_cast<double>(timed.size());
    for (double t : timed) sq += (t - mean) * (t - mean);
    const double sd = timed.size() > 1 ? std::sqrt(sq / static_cast<double>(timed.size() - 1)) : 0;
    out = {{"first_ms", first_ms},
           {"median_ms", median(timed)},
           {"mean_ms", mean},
           {"sd_ms", sd},
           {"loaded_kib", loaded_kib},
           {"macs_per_pixel", up.macs_per_pixel()},
           {"activations_per_pixel", up.activations_per_pixel()},
           {"parameters", up.parameter_count()}};
    if (paired_threads > 0) {
      out["paired_median_ms"] = median(paired);
      out["paired_ratio"] = median(ratios);
    }
  } catch (const std::exception& e) {
    out = {{"error", e.what()}};
  }
  std::printf("%s\n", out.dump().c_str());
  return kExitOk;
}

// Parent side: runs `fdiwn bench --speed-case ...` and reads its line.
CaseResult run_case(const BenchCase& c, int repeat) {
  std::string spec = std::to_string(c.scale) + ":" + std::to_string(c.size.width) + "x" +
                     std::to_string(c.size.height) + ":" + to_string(c.path);
  if (c.paired_threads > 0) spec += ":" + std::to_string(c.paired_threads);
  int pipe_fds[2];
  CaseResult result;
  // The read end is not inherited: the child's stdout is its only writer.
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw Error("pipe failed");
  pid_t pid = -1;
  try {
    pid = spawn_self({"bench", "--speed-case", spec, "--repeat", std::to_string(repeat), "-j",
                      std::to_string(c.threads)},
                     pipe_fds[1]);
  } catch (...) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw;
  }
  ::close(pipe_fds[1]);
  std::string text;
  char buf[4096];
  // Reads the child's line, looking at the stop flag every 100 ms: a stop
  // ends the child (SIGTERM) and then the run (Cancelled: exit 130).
  bool stopped = false;
  for (;;) {
    if (!stopped && stop_requested()) {
      ::kill(pid, SIGTERM);
      stopped = true;
    }
    pollfd p{pipe_fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, 100);
    if (ready == 0 || (ready < 0 && errno == EINTR)) continue;  // a signal: look at the flag
    if (ready < 0) break;
    const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  if (stopped || stop_requested()) throw Cancelled();
  result.peak_kib = usage.ru_maxrss;
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.contains("error")) {
      result.error = j.at("error").get<std::string>();
    } else {
      result.first_ms = j.at("first_ms");
      result.median_ms = j.at("median_ms");
      result.mean_ms = j.at("mean_ms");
      result.sd_ms = j.at("sd_ms");
      result.loaded_kib = j.at("loaded_kib");
      result.macs_per_pixel = j.at("macs_per_pixel");
      result.activations_per_pixel = j.at("activations_per_pixel");
      result.parameters = j.at("parameters");
      result.paired_median_ms = j.value("paired_median_ms", 0.0);
      result.paired_ratio = j.value("paired_ratio", 0.0);
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
    if (stop_requested()) break;
    const auto start = Clock::now();
    const pid_t pid = spawn_self(
        {"upscale", "-i", in, "-o", out, "-s", std::to_string(scale), "--overwrite"}, -1);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (stop_requested()) throw Cancelled();
  return best;
}

}  // namespace fdiwn::cli
