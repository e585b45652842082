// Runs the built fdiwn binary (path from CMake) and captures what it says.
#pragma once

#include <string>
#include <vector>

#ifndef FDIWN_CLI_PATH
#error "FDIWN_CLI_PATH must be defined by CMake"
#endif

namespace fdiwn::test {

struct CliResult {
  int exit_code = -1;  ///< the exit status, or 128+signal if it was killed
  std::string out;
  std::string err;
};

/// Runs `fdiwn args...` in `cwd` (empty: the current folder), stdin closed.
CliResult run_fdiwn(const std::vector<std::string>& args, const std::string& cwd = "");

}  // namespace fdiwn::test
