// The fdiwn executable: a small launcher that sets process-wide defaults the
// libraries read when they load, then loads the command itself
// (libfdiwn_cli.so, which brings in LibTorch) and runs it.
//
// Why: LibTorch's OpenMP runtime (libgomp) reads OMP_WAIT_POLICY and
// GOMP_SPINCOUNT once, while it is being loaded, before main() of a program
// linked against it. Its default makes idle threads spin at every barrier;
// the network has thousands of small parallel regions, so as soon as another
// busy process shares the cores (another fdiwn, a build, a Slurm neighbour)
// the spinning threads steal the time the working ones need. Measured here:
// 25-37 s instead of 1.7-3.5 s for one 128x128 image with one of two cores
// busy. Setting the variable from main() of a linked program is too late,
// and glibc resets the environment after .preinit_array functions run; so
// this executable does not link LibTorch and loads it only after setenv().
// Values the user set are left alone.
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#ifndef FDIWN_CLI_LIBRARY
#error "FDIWN_CLI_LIBRARY (the CLI library's path relative to the binary's folder) must be defined"
#endif

namespace {

std::string executable_dir() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// A standard descriptor the caller left closed (`<&-`, `>&-`) is opened
// read-only on /dev/null: reading it ends at once (no image came), writing
// it fails with EBADF as before. Left closed, the next file or pipe opened
// would take its number: the stderr capture's pipe became standard input,
// and `-i -` waited forever on fdiwn's own log.
void occupy_closed_standard_descriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0 && null != fd) {
      ::dup2(null, fd);
      ::close(null);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  occupy_closed_standard_descriptors();
  // Loading LibTorch takes a third of a second; a SIGINT/SIGTERM/SIGHUP
  // arriving meanwhile must not kill the process before the command has its
  // handlers. Blocked here, such a signal waits; the command unblocks them
  // once its handlers are in place (signals.cpp), and the signal is then
  // delivered to them. Threads the libraries start while loading inherit the
  // mask, so the signal goes to the command's own thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, sig);
  ::sigprocmask(SIG_BLOCK, &stop_signals, nullptr);

  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("GOMP_SPINCOUNT") == nullptr) {
    ::setenv("GOMP_SPINCOUNT", FDIWN_GOMP_SPINCOUNT, /*overwrite=*/0);
  }
  const std::string library = executable_dir() + "/" + FDIWN_CLI_LIBRARY;
  void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::fprintf(stderr, "error: fdiwn is not installed correctly: cannot load %s: %s\n",
                 library.c_str(), ::dlerror());
    return 1;
  }
  using Entry = int (*)(int, char**);
  const auto entry = reinterpret_cast<Entry>(::dlsym(handle, "fdiwn_cli_main"));
  if (entry == nullptr) {
    std::fprintf(stderr, "error: %s has no fdiwn_cli_main: %s\n", library.c_str(), ::dlerror());
    return 1;
  }
  int code = entry(argc, argv);
  // CLI11 prints --help and --version without checking the write: a full or
  // closed standard output is an error there too (the commands check their
  // own writes and have failed already).
  if ((std::fflush(stdout) != 0 || std::ferror(stdout)) && code == 0) {
    std::fputs("error: cannot write to standard output\n", stderr);
    code = 1;
  }
  // Every file the command wrote is complete and closed by now (atomic
  // renames). Skipping the static destructors of the ~290 libraries that
  // LibTorch pulls in saves tens of milliseconds per run; only the standard
  // streams still need flushing.
  std::fflush(nullptr);
  ::_exit(code);
}
