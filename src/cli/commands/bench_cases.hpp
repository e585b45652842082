// The timed cases of `fdiwn bench --speed` and `--efficiency`: each runs in a
// child process of its own (`fdiwn bench --speed-case ...`), so that its peak
// resident memory can be measured (getrusage via wait4) and no case inherits
// another's caches or memory. A case may also time passes on another thread
// count, paired with its own, in its process (BenchCase::paired_threads).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "fdiwn/upscaler.hpp"

namespace fdiwn::cli {

struct BenchCase {
  int scale;
  cv::Size size;
  Path path;
  int threads;  ///< 0: all cores
  /// Also time passes on this many threads, in the same process, each one
  /// after or before a pass on `threads` (0: none): a paired measurement,
  /// so that a slow spell of the machine falls on both.
  int paired_threads = 0;
};

struct CaseResult {
  double first_ms = 0;            ///< the first pass at this size (cold: allocation, kernel set-up)
  double median_ms = 0;           ///< of the timed passes
  double mean_ms = 0, sd_ms = 0;  ///< of the timed passes (sample standard deviation)
  long peak_kib = 0;              ///< the child's peak resident memory
  long loaded_kib = 0;  ///< its peak before the first pass at this size (libraries, weights)
  int64_t macs_per_pixel = 0, activations_per_pixel = 0, parameters = 0;
  /// With paired_threads: the median of its passes, and the median of each
  /// pair's ratio (paired pass / own pass).
  double paired_median_ms = 0, paired_ratio = 0;
  bool ok = false;
  std::string error;
};

std::vector<std::string> split(const std::string& s, char sep);

/// The comma-separated items of `text`, the value of `option`; throws
/// InvalidArgument for an empty item or one given twice.
std::vector<std::string> split_list(const std::string& text, const std::string& option);
/// "WIDTHxHEIGHT"; InvalidArgument naming `option` otherwise.
cv::Size parse_size(const std::string& s, const std::string& option);

/// Runs one case in a child process: one untimed pass at that size, then
/// `repeat` timed ones (0: the first pass is the timed one). With
/// paired_threads, each timed pass is paired with one on those threads
/// (after one untimed; with `repeat` 0, the first passes of both, each on
/// fresh memory), the order alternating from pair to pair.
CaseResult run_case(const BenchCase& c, int repeat);
/// The child's side (`--speed-case SCALE:WxH:PATH[:PAIRED_THREADS]`): prints
/// its result as one JSON line on stdout.
int run_case_child(const std::string& spec, int repeat, int threads);

/// Wall time of a whole `fdiwn upscale` of a 64x64 image (start-up, weights,
/// one small image, exit), best of 3.
double startup_seconds(int scale);

}  // namespace fdiwn::cli
