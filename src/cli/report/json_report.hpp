// The machine-readable summary of `fdiwn upscale --json`.
#pragma once

#include <string>
#include <vector>

#include "cli/batch/batch.hpp"

namespace fdiwn::cli {

struct RunInfo {
  int scale = 0;
  std::string mode;
  bool tta = false;
  double seconds = 0;
  bool interrupted = false;
  int exit_code = 0;
  std::string shard = "0/1";
  std::string error;  ///< why the run did not start (a usage or weights error), or empty
};

/// One JSON document: the run, then one object per file (input, output,
/// status, sizes, bit depth, seconds, error, notes) and the counts.
std::string json_report(const RunInfo& run, const std::vector<FileResult>& results);

}  // namespace fdiwn::cli
