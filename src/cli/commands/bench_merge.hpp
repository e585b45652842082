// `fdiwn bench --merge FILES...`: combines the --json results of shards
// (per scale, mode and protocol) into the table a single run over the whole
// set prints, refusing a shard that is missing or given twice.
#pragma once

#include <string>
#include <vector>

#include "cli/scoring/scoring.hpp"

namespace fdiwn::cli {

/// Prints the merged tables and writes --csv/--json; returns the exit code.
/// Throws InvalidArgument for a file that is not a result, or shards that do
/// not add up to the whole set.
int run_merge(const std::vector<std::string>& files, const ScoringArgs& scoring);

}  // namespace fdiwn::cli
