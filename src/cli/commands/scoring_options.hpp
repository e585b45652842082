// The options and set-up `fdiwn bench` and `fdiwn metrics` share.
#pragma once

#include <string>

#include <CLI/App.hpp>

#include "cli/scoring/scoring.hpp"

namespace fdiwn::cli {

/// --crop-border, --rgb, --max-pixels, --csv, --json, --table.
void add_scoring_options(CLI::App* cmd, ScoringArgs& args);

/// How images are read (limits, stop requests) and where rows are printed.
ScoringRun scoring_run(const ScoringArgs& args);

/// Creates a folder an option names; a usage error if it cannot be one.
void make_folder(const std::string& dir, const std::string& option);

}  // namespace fdiwn::cli
