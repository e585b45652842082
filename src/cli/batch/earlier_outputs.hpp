// Telling an earlier run's outputs from inputs in a folder that is both
// (-i d -o d --name '{name}_x2.{ext}'): by evidence, not by name alone.
#pragma once

#include <string>
#include <vector>

#include "cli/batch/jobs.hpp"

namespace fdiwn::cli {

/// Drops from `jobs` the files found in folders (`from_folder`) that are
/// another job's earlier output: that output by name, in the output's
/// folder itself (not reached through a link), with the size that output
/// has under `request`. Each is noted in `skipped`. Any other file an
/// output would replace stays a job, for the output guard to refuse.
void drop_earlier_outputs(std::vector<Job>& jobs, const std::vector<bool>& from_folder,
                          const JobRequest& request, std::vector<std::string>& skipped);

}  // namespace fdiwn::cli
