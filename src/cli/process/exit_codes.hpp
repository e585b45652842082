// Exit codes of the fdiwn command, documented in the README and --help.
#pragma once

#include <exception>

#include "fdiwn/errors.hpp"

namespace fdiwn::cli {

enum ExitCode : int {
  kExitOk = 0,            ///< everything asked for was done
  kExitFailed = 1,        ///< some input failed (the others were still processed)
  kExitUsage = 2,         ///< bad flag or value, missing input
  kExitWeights = 3,       ///< the weights could not be loaded
  kExitInterrupted = 130  ///< stopped by SIGINT/SIGTERM/SIGHUP (outputs cleaned up)
};

/// The exit code for an error that ends the whole run (main maps them the
/// same way): weights 3, usage 2, anything else 1.
inline int exit_code_for(const std::exception& e) {
  if (dynamic_cast<const WeightsError*>(&e)) return kExitWeights;
  if (dynamic_cast<const InvalidArgument*>(&e)) return kExitUsage;
  if (dynamic_cast<const Cancelled*>(&e)) return kExitInterrupted;
  return kExitFailed;
}

/// The text --help prints under "Exit codes".
inline constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  0  all done\n"
    "  1  some files failed (the others were processed)\n"
    "  2  usage error (bad flag or value, missing input)\n"
    "  3  weights could not be loaded\n"
    "  130  interrupted (SIGINT/SIGTERM/SIGHUP); no partial files are left\n";

}  // namespace fdiwn::cli
