// `fdiwn bench --efficiency`: the columns papers and the NTIRE efficient-SR
// challenge print for a network, counted from the loaded network, for an LR
// size (256x256 by default, as NTIRE): parameters, multiply-adds,
// activations (the elements of every convolution's output), the peak memory
// of a process running the pass and what the pass itself added, and the
// runtime as the mean and spread of N timed passes after a warm-up.
#pragma once

#include "cli/commands/speed_bench.hpp"

namespace fdiwn::cli {

/// The report on stdout (and --json). Returns the exit code.
int run_efficiency(const SpeedArgs& args);

}  // namespace fdiwn::cli
