// The safe writer (see fdiwn/files.hpp for the rules): atomic replacement of
// regular files, in-place writes to streams and to our own descriptors.
#include "fdiwn/files.hpp"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "fdiwn/errors.hpp"

namespace fdiwn {

namespace fs = std::filesystem;

namespace {

// A temporary name is at most this much longer than the target's path.
constexpr std::size_t kTempNameRoom = 32;

// "/dev/stdout", "/dev/fd/3", "/proc/self/fd/1": our own descriptor, which
// must be written as it is (at its offset, in append mode if it is), not
// reopened or replaced.
int own_descriptor(const std::string& path) {
  if (path == "/dev/stdin") return 0;
  if (path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  for (const char* prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    const std::size_t n = std::strlen(prefix);
    if (path.compare(0, n, prefix) != 0 || path.size() == n || path.size() > n + 6) continue;
    int fd = 0;
    for (std::size_t i = n; i < path.size(); ++i) {
      if (path[i] < '0' || path[i] > '9') return -1;
      fd = fd * 10 + (path[i] - '0');
    }
    return fd;
  }
  return -1;
}

// Follows `path` through its symbolic links one by one (at most 40, as the
// kernel does) and returns the descriptor they end at if that is one of
// ours, else -1.
int own_descriptor_behind(const std::string& path) {
  fs::path p(path);
  for (int hop = 0; hop < 40; ++hop) {
    if (const int fd = own_descriptor(p.lexically_normal().string()); fd >= 0) return fd;
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(p, ec))) return -1;
    const fs::path target = fs::read_symlink(p, ec);
    if (ec) return -1;
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  return -1;
}

// Test hook: with FDIWN_TEST_WRITE_LIMIT=N in the environment, writes fail
// with ENOSPC once this process has written N bytes: a full disk, for tests
// that cannot mount a small file system.
ssize_t write_some(int fd, const unsigned char* data, std::size_t size) {
  static const long long limit = [] {
    const char* v = std::getenv("FDIWN_TEST_WRITE_LIMIT");
    return v ? std::atoll(v) : -1LL;
  }();
  static std::atomic<long long> written{0};
  if (limit >= 0) {
    const auto n = static_cast<long long>(size);
    if (written.fetch_add(n) + n > limit) {
      errno = ENOSPC;
      return -1;
    }
  }
  return ::write(fd, data, size);
}

// Writes all of `data`, retrying short writes and EINTR; false with errno set.
// SIGPIPE is blocked in this thread meanwhile, so a reader that goes away
// is an EPIPE error for the caller, not the death of the process.
bool write_all(int fd, const unsigned char* data, std::size_t size) {
  sigset_t pipe, old;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, &old);
  sigset_t pending_before;
  sigpending(&pending_before);
  bool ok = true;
  while (size > 0) {
    const ssize_t n = write_some(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  const int err = errno;
  if (!ok && err == EPIPE && !sigismember(&pending_before, SIGPIPE)) {
    // Consume the SIGPIPE this thread raised before unblocking it.
    const timespec none{0, 0};
    sigtimedwait(&pipe, nullptr, &none);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return ok;
}

// The process's umask, read without changing it (umask() can only be read
// by setting it, which would race with other threads creating files).
mode_t current_umask() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "Umask:") {
      std::string value;
      status >> value;
      return static_cast<mode_t>(std::strtoul(value.c_str(), nullptr, 8));
    }
    status.ignore(1 << 16, '\n');
  }
  return 022;
}

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw FileError(path, what + ": " + std::strerror(err));
}

void write_in_place(const std::string& path, int own_fd, const unsigned char* data,
                    std::size_t size) {
  if (own_fd >= 0) {
    if (own_fd == STDOUT_FILENO) std::fflush(stdout);  // keep the order of what was printed
    if (!write_all(own_fd, data, size)) fail(path, "cannot write", errno);
    return;
  }
  // O_NONBLOCK: a FIFO nobody reads fails at once (ENXIO) instead of blocking.
  const int fd = ::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENXIO) throw FileError(path, "no process is reading from this FIFO");
    fail(path, "cannot open", errno);
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  const bool ok = write_all(fd, data, size);
  const int err = errno;
  ::close(fd);
  if (!ok) fail(path, "cannot write", err);
}

// The atomic replacement of a regular (or missing) file at `target`;
// `path` names it in messages.
void write_atomic(const std::string& path, const fs::path& target, const unsigned char* data,
                  std::size_t size, const TempFileHooks* hooks) {
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  // A replaced file keeps its permissions; a new one gets those a plain
  // creat(0666) would (the kernel applies the umask for O_TMPFILE, and
  // fchmod after mkstemp takes it from /proc).
  struct stat old_st;
  const bool replacing = ::stat(target.c_str(), &old_st) == 0;

  // The data goes first into an unnamed file (O_TMPFILE): if the process is
  // killed while writing, even by SIGKILL, the kernel frees it and nothing is
  // left in the folder. File systems without O_TMPFILE get a named temporary
  // file from the start.
  bool named = false;
  std::string temp = (dir / ".fdiwn-XXXXXX").string();
  int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0) {
    fd = ::mkstemp(temp.data());
    if (fd < 0) fail(path, "cannot create a file in '" + dir.string() + "'", errno);
    named = true;
    if (!replacing) ::fchmod(fd, 0666 & ~current_umask());
    if (hooks && hooks->created) hooks->created(temp);
  }
  if (replacing) ::fchmod(fd, old_st.st_mode & 07777);
  const auto give_up = [&](const std::string& what, int err) {
    if (fd >= 0) ::close(fd);
    if (named) {
      ::unlink(temp.c_str());
      if (hooks && hooks->finished) hooks->finished(temp);
    }
    fail(path, what, err);
  };

  if (!write_all(fd, data, size)) give_up("cannot write", errno);
  if (::fsync(fd) != 0) give_up("cannot write", errno);
  if (!named) {
    // Give the complete file a short temporary name (linkat cannot replace an
    // existing file), then rename it over the target. The name does not
    // repeat the target's, so it fits wherever the target's name fits.
    const std::string proc_fd = "/proc/self/fd/" + std::to_string(fd);
    for (int attempt = 0; !named; ++attempt) {
      temp =
          (dir / (".fdiwn-" + std::to_string(::getpid()) + "-" + std::to_string(attempt))).string();
      if (hooks && hooks->created) hooks->created(temp);
      if (::linkat(AT_FDCWD, proc_fd.c_str(), AT_FDCWD, temp.c_str(), AT_SYMLINK_FOLLOW) == 0) {
        named = true;
        break;
      }
      const int err = errno;
      if (hooks && hooks->finished) hooks->finished(temp);
      if (err != EEXIST || attempt > 100) give_up("cannot name the new file", err);
    }
  }
  const int close_result = ::close(fd);
  fd = -1;
  if (close_result != 0) give_up("cannot write", errno);
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    give_up("cannot move the finished file into place", errno);
  }
  if (hooks && hooks->finished) hooks->finished(temp);
}

}  // namespace

void write_file(const std::string& path, const void* data, std::size_t size,
                const TempFileHooks* hooks) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  if (const int own = own_descriptor_behind(path); own >= 0) {
    write_in_place(path, own, bytes, size);
    return;
  }
  const PathInfo info = inspect_path(path);
  switch (info.kind) {
    case PathKind::Directory:
      throw FileError(path, "is a folder; not written");
    case PathKind::Unusable:
      throw FileError(path, info.reason + "; not written");
    case PathKind::Stream:
      write_in_place(path, -1, bytes, size);
      return;
    case PathKind::Regular:
    case PathKind::Missing:
      break;
  }
  // Through a symbolic link: its target is replaced, the link stays.
  fs::path target(path);
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(target, ec))) {
    target = fs::canonical(target, ec);
    if (ec) throw FileError(path, "cannot follow the symbolic link: " + ec.message());
  }
  write_atomic(path, target, bytes, size, hooks);
}

std::optional<std::string> output_path_problem(const std::string& path) {
  if (path.size() + kTempNameRoom >= PATH_MAX) {
    return "the path is " + std::to_string(path.size()) + " bytes long, more than the " +
           std::to_string(PATH_MAX - kTempNameRoom - 1) + " fdiwn can write to";
  }
  // The file name's limit is the file system's, asked of the nearest folder
  // that exists.
  fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  while (!dir.empty() && !fs::is_directory(dir, ec)) dir = dir.parent_path();
  const long name_max = ::pathconf(dir.empty() ? "." : dir.c_str(), _PC_NAME_MAX);
  const std::size_t limit = name_max > 0 ? static_cast<std::size_t>(name_max) : 255;
  for (const auto& part : fs::path(path)) {
    const std::string name = part.string();
    if (name.size() > limit) {
      return "the name '" + name.substr(0, 40) + "...' is " + std::to_string(name.size()) +
             " bytes long, more than the " + std::to_string(limit) + " its file system allows";
    }
  }
  return std::nullopt;
}

}  // namespace fdiwn
