// Exit codes of the fdiwn command, documented in the README and --help.
#pragma once

namespace fdiwn::cli {

enum ExitCode : int {
  kExitOk = 0,            ///< everything asked for was done
  kExitFailed = 1,        ///< some input failed (the others were still processed)
  kExitUsage = 2,         ///< bad flag or value, missing input
  kExitWeights = 3,       ///< the weights could not be loaded
  kExitInterrupted = 130  ///< stopped by SIGINT/SIGTERM (outputs cleaned up)
};

/// The text --help prints under "Exit codes".
inline constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  0  all done\n"
    "  1  some files failed (the others were processed)\n"
    "  2  usage error (bad flag or value, missing input)\n"
    "  3  weights could not be loaded\n"
    "  130  interrupted (SIGINT/SIGTERM); no partial files are left\n";

}  // namespace fdiwn::cli
