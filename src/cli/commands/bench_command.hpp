// `fdiwn bench` (PSNR/SSIM and speed of FDIWN on a test set, in the paper's
// protocol) and `fdiwn metrics` (the same scores for any SR images).
#pragma once

#include <string>
#include <vector>

#include <CLI/App.hpp>

#include "cli/commands/speed_bench.hpp"
#include "cli/scoring/scoring.hpp"
#include "fdiwn/options.hpp"

namespace fdiwn::cli {

struct BenchArgs {
  std::string hr;
  std::string lr;
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
};

struct MetricsArgs {
  std::string hr;
  std::string sr;
  int scale = 4;
  ScoringArgs scoring;
};

CLI::App* add_bench_command(CLI::App& app, BenchArgs& args);
CLI::App* add_metrics_command(CLI::App& app, MetricsArgs& args);

/// Both return 0, or 1 if some image failed (it is reported and left out
/// of the mean); usage errors are thrown, and Cancelled on a stop signal.
/// Neither writes over any of its inputs: --save-sr, --csv and --json are
/// checked against every image they read before any work.
int run_bench(const BenchArgs& args);
int run_metrics(const MetricsArgs& args);

}  // namespace fdiwn::cli
