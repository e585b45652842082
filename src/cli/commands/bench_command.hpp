// `fdiwn bench`: PSNR/SSIM of FDIWN and of interpolation baselines on test
// sets, in the paper's protocol; its speed and efficiency reports.
#pragma once

#include <string>
#include <vector>

#include <CLI/App.hpp>

#include "cli/commands/speed_bench.hpp"
#include "cli/scoring/scoring.hpp"
#include "fdiwn/options.hpp"

namespace fdiwn::cli {

struct BenchArgs {
  std::string hr;                      ///< one test set (named after its folder)
  std::string lr;                      ///< its LR images (default: made from HR)
  std::vector<std::string> sets;       ///< NAME=HR_DIR[:LR_DIR], repeated
  std::vector<std::string> baselines;  ///< bicubic, bilinear, nearest, lanczos
  std::vector<int> scales;
  Mode mode = Mode::Chop;
  bool tta = false;
  int threads = 0;
  Path path = Path::Engine;
  std::string save_sr;
  ScoringArgs scoring;
  bool speed = false;  ///< time the paths instead (speed_bench.hpp)
  SpeedArgs speed_args;
  std::string shard;               ///< "K/N" or "slurm": score only this shard's images
  std::vector<std::string> merge;  ///< JSON results of shards to merge instead of running
  /// The options given, by their long names ("--hr"; given_options()): one
  /// that the mode asked for does not read is refused.
  std::vector<std::string> given;
};

CLI::App* add_bench_command(CLI::App& app, BenchArgs& args);

/// Returns 0, or 1 if some image failed (it is reported and left out of the
/// mean); usage errors are thrown, and Cancelled on a stop signal. Writes
/// over none of its inputs: --save-sr, --csv and --json are checked against
/// every image it reads before any work.
int run_bench(const BenchArgs& args);

}  // namespace fdiwn::cli
