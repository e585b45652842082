// Runs the built fdiwn binary (path from CMake) and captures what it says.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#ifndef FDIWN_CLI_PATH
#error "FDIWN_CLI_PATH must be defined by CMake"
#endif

namespace fdiwn::test {

class TempDir;

struct CliResult {
  int exit_code = -1;  ///< the exit status, or 128+signal if it was killed
  std::string out;
  std::string err;
};

struct CliOptions {
  std::string cwd;  ///< empty: the current folder
  /// Run as an unprivileged user (uid/gid 65534) when the tests run as root,
  /// so that file permissions apply; as a normal user nothing changes.
  bool unprivileged = false;
};

/// fdiwn running in the background; stdin closed, stdout/stderr captured.
class CliProcess {
 public:
  CliProcess(const std::vector<std::string>& args, const CliOptions& options = {});
  ~CliProcess();
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;
  pid_t pid() const { return pid_; }
  void signal(int sig);
  /// Waits for the process to end.
  CliResult wait();

 private:
  pid_t pid_ = -1;
  std::unique_ptr<TempDir> capture_;
  bool waited_ = false;
};

/// Runs `fdiwn args...` to completion.
CliResult run_fdiwn(const std::vector<std::string>& args, const CliOptions& options = {});
inline CliResult run_fdiwn(const std::vector<std::string>& args, const std::string& cwd) {
  CliOptions o;
  o.cwd = cwd;
  return run_fdiwn(args, o);
}

/// True if run_fdiwn(..., unprivileged) really drops privileges (tests as root).
bool running_as_root();

}  // namespace fdiwn::test
