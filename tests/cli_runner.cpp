#include "cli_runner.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "test_support.hpp"

namespace fdiwn::test {

namespace {
constexpr uid_t kNobody = 65534;

// In the child, before exec: makes root subject to file permissions. The
// capabilities that let root ignore them leave the bounding set, so the
// program exec'd next does not get them back. Staying uid 0 keeps the build
// tree reachable even where it lies under a private home (/root is 0700);
// only where the bounding set cannot be changed does it become `nobody`.
bool drop_permission_override() {
  bool dropped = true;
  for (int cap : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER}) {
    dropped = dropped && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0;
  }
  if (dropped) return true;
  return ::setgroups(0, nullptr) == 0 && ::setgid(kNobody) == 0 && ::setuid(kNobody) == 0;
}
}  // namespace

bool running_as_root() {
  return ::geteuid() == 0;
}

std::string fdiwn_path() {
  // scripts/sanitize.sh points these tests at the instrumented build's binary
  // rather than building them a second time with the sanitizers.
  static const std::string path = [] {
    const char* other = std::getenv("FDIWN_TEST_CLI");
    return other != nullptr && *other != '\0' ? std::string(other) : std::string(FDIWN_CLI_PATH);
  }();
  return path;
}

CliProcess::CliProcess(const std::vector<std::string>& args, const CliOptions& options)
    : CliProcess(
          true,
          [&] {
            std::vector<std::string> argv = {fdiwn_path()};
            argv.insert(argv.end(), args.begin(), args.end());
            return argv;
          }(),
          options) {}

CliProcess CliProcess::command(const std::vector<std::string>& argv, const CliOptions& options) {
  return CliProcess(true, argv, options);
}

CliProcess::CliProcess(bool, const std::vector<std::string>& argv_in, const CliOptions& options)
    : capture_(std::make_unique<TempDir>()), deadline_seconds_(options.deadline_seconds) {
  const std::string out_path = capture_->file("stdout"), err_path = capture_->file("stderr");
  std::vector<std::string> copies(argv_in);
  std::vector<char*> argv;
  for (auto& a : copies) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_copies(options.env);
  const bool drop = options.unprivileged && running_as_root();
  if (drop) ::chmod(capture_->path().c_str(), 0777);

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    if (drop && !drop_permission_override()) ::_exit(126);
    for (auto& e : env_copies) ::putenv(e.data());
    const int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (options.stdout_to_closed_pipe) {
      int fds[2];
      if (::pipe(fds) != 0) ::_exit(127);
      ::close(fds[0]);
      out = fds[1];
      ::signal(SIGPIPE, SIG_DFL);  // as a shell would start it
    }
    // As an interactive shell starts a command: stop signals at their
    // defaults and unblocked, whatever the test program inherited (a script
    // that runs it in the background makes SIGINT ignored, and fdiwn keeps an
    // inherited SIG_IGN, as nohup needs). A test that wants them ignored
    // starts a wrapper such as nohup.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::signal(sig, SIG_DFL);
    for (const int sig : options.pending_signals) {
      sigset_t one;
      sigemptyset(&one);
      sigaddset(&one, sig);
      ::sigprocmask(SIG_BLOCK, &one, nullptr);
      ::raise(sig);
    }
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (in < 0 || out < 0 || err < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(127);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
}

CliProcess::CliProcess(CliProcess&& other) noexcept
    : pid_(other.pid_),
      capture_(std::move(other.capture_)),
      waited_(other.waited_),
      deadline_seconds_(other.deadline_seconds_) {
  other.pid_ = -1;
  other.waited_ = true;
}

CliProcess::~CliProcess() {
  if (!waited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void CliProcess::signal(int sig) {
  ::kill(pid_, sig);
}

CliResult CliProcess::wait() {
  int status = 0;
  rusage usage{};
  bool timed_out = false;
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    const pid_t done = ::wait4(pid_, &status, deadline_seconds_ > 0 ? WNOHANG : 0, &usage);
    if (done == pid_) break;
    if (done < 0) continue;  // EINTR
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(deadline_seconds_)) {
      ::kill(pid_, SIGKILL);
      timed_out = true;
      while (::wait4(pid_, &status, 0, &usage) < 0) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  waited_ = true;
  CliResult r;
  r.timed_out = timed_out;
  r.peak_rss_kib = usage.ru_maxrss;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(capture_->file("stdout"));
  r.err = read_file(capture_->file("stderr"));
  return r;
}

CliResult run_fdiwn(const std::vector<std::string>& args, const CliOptions& options) {
  CliProcess p(args, options);
  return p.wait();
}

CliResult run_command(const std::vector<std::string>& argv, const CliOptions& options) {
  return CliProcess::command(argv, options).wait();
}

}  // namespace fdiwn::test
