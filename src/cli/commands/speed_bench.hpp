// `fdiwn bench --speed`: times the engine and the plain path side by side
// on synthetic inputs, each case in a child process of its own so that its
// peak resident memory can be measured (getrusage via wait4), and the engine
// on one thread against all of them: one-thread passes paired with the
// all-thread ones in that case's process (bench_cases.hpp).
#pragma once

#include <string>
#include <vector>

#include "fdiwn/options.hpp"

namespace fdiwn::cli {

/// The LR sizes --speed times by default.
inline constexpr const char* kSpeedSizes = "128x128,640x360,1280x720,1920x1080";

struct SpeedArgs {
  std::vector<int> scales;  ///< default 2, 3, 4
  std::string sizes;        ///< empty: kSpeedSizes (--speed), 256x256 (--efficiency)
  std::string paths = "plain,engine";
  /// Timed passes per case, after one untimed warm-up pass at that size;
  /// -1: the mode's default (--speed 1, --efficiency 10).
  int repeat = -1;
  /// The efficiency report instead of the speed table (efficiency_report.hpp),
  /// for the network on this path.
  bool efficiency = false;
  Path path = Path::Engine;
  int threads = 0;
  std::string json;
  /// --efficiency: "" or "text" (rows as they come), "md" or "latex" (the
  /// rows on stderr as they come, then the table alone on stdout).
  std::string table;
  /// Internal: run one case in this process and print its result.
  std::string child_case;
};

/// The table on stdout (and --json). Returns the exit code.
int run_speed(const SpeedArgs& args);

}  // namespace fdiwn::cli
