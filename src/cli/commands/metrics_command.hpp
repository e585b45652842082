// `fdiwn metrics`: PSNR/SSIM of SR images made by any methods, in the
// paper's protocol, side by side in one table.
#pragma once

#include <string>
#include <vector>

#include <CLI/App.hpp>

#include "cli/scoring/scoring.hpp"

namespace fdiwn::cli {

struct MetricsArgs {
  std::string hr;                 ///< one test set's HR folder (named after it)
  std::vector<std::string> sets;  ///< NAME=HR_DIR, repeated
  std::vector<std::string> sr;    ///< [NAME=]DIR per method
  std::vector<int> scales;
  ScoringArgs scoring;
};

CLI::App* add_metrics_command(CLI::App& app, MetricsArgs& args);

/// Scores every method on every set at every scale ("{scale}" and "{set}"
/// in the folders are replaced), a row per image, then the summary table.
/// An HR image without a partner in a method's folder is that image's
/// failure. Returns 0, or 1 if an image failed or was missing; usage errors
/// are thrown, and Cancelled on a stop signal. Writes over none of its inputs.
int run_metrics(const MetricsArgs& args);

}  // namespace fdiwn::cli
