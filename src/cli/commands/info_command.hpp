// `fdiwn info`: versions, threads, memory, and the weights the tool finds.
#pragma once

#include <CLI/App.hpp>

namespace fdiwn::cli {

struct InfoArgs {
  bool json = false;
};

CLI::App* add_info_command(CLI::App& app, InfoArgs& args);

/// Prints the report; returns 0, or kExitWeights if weights for some scale
/// cannot be loaded (so scripts can check an installation).
int run_info(const InfoArgs& args);

}  // namespace fdiwn::cli
