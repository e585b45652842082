// Runs the built fdiwn binary (path from CMake, or $FDIWN_TEST_CLI) and captures
// what it says.
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
  long peak_rss_kib = 0;   ///< the process's peak resident memory
  bool timed_out = false;  ///< killed at CliOptions::deadline_seconds
};

struct CliOptions {
  std::string cwd;  ///< empty: the current folder
  /// Make file permissions apply when the tests run as root: the program runs
  /// without the capabilities that override them (or, where those cannot be
  /// dropped, as uid/gid 65534); as a normal user nothing changes.
  bool unprivileged = false;
  std::vector<std::string> env;  ///< extra "NAME=value" entries
  /// Kill the program (SIGKILL) if it runs longer than this; 0: no limit.
  /// CliResult::timed_out says if it had to.
  int deadline_seconds = 0;
  /// Standard output is a pipe nobody reads (its read end closed before the
  /// program starts): every write to it fails with EPIPE or SIGPIPE.
  bool stdout_to_closed_pipe = false;
  /// Signals already pending when the program starts (blocked and raised
  /// before exec): as if sent while it was starting up.
  std::vector<int> pending_signals;
};

/// fdiwn running in the background; stdin closed, stdout/stderr captured.
class CliProcess {
 public:
  /// Starts fdiwn with `args`.
  CliProcess(const std::vector<std::string>& args, const CliOptions& options = {});
  /// Starts any program: argv[0] is looked up on PATH.
  static CliProcess command(const std::vector<std::string>& argv, const CliOptions& options = {});
  CliProcess(CliProcess&&) noexcept;
  ~CliProcess();
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;
  pid_t pid() const { return pid_; }
  void signal(int sig);
  /// Waits for the process to end.
  CliResult wait();

 private:
  CliProcess(bool, const std::vector<std::string>& argv, const CliOptions& options);
  pid_t pid_ = -1;
  std::unique_ptr<TempDir> capture_;
  bool waited_ = false;
  int deadline_seconds_ = 0;
};

/// Runs `fdiwn args...` to completion.
CliResult run_fdiwn(const std::vector<std::string>& args, const CliOptions& options = {});
inline CliResult run_fdiwn(const std::vector<std::string>& args, const std::string& cwd) {
  CliOptions o;
  o.cwd = cwd;
  return run_fdiwn(args, o);
}

/// Runs any program to completion (argv[0] looked up on PATH).
CliResult run_command(const std::vector<std::string>& argv, const CliOptions& options = {});

/// The fdiwn binary under test: $FDIWN_TEST_CLI if set, else the one this
/// build made.
std::string fdiwn_path();

/// True if run_fdiwn(..., unprivileged) really drops privileges (tests as root).
bool running_as_root();

}  // namespace fdiwn::test
