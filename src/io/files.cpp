// The bounded reader (see fdiwn/files.hpp for the rules).
#include "fdiwn/files.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
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

constexpr std::size_t kChunk = std::size_t{4} << 20;

std::string size_text(std::uint64_t bytes) {
  char buf[48];
  if (bytes >= (std::uint64_t{1} << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1 << 30));
  } else if (bytes >= (std::uint64_t{1} << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  } else {
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  }
  return buf;
}

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw FileError(path, what + ": " + std::strerror(err));
}

// Character devices that are safe to write to: /dev/null and terminals.
bool is_stream_device(const struct stat& st) {
  const unsigned maj = major(st.st_rdev), min = minor(st.st_rdev);
  return (maj == 1 && min == 3) || maj == 4 || maj == 5 || (maj >= 136 && maj <= 143);
}

}  // namespace

bool look_failed(const PathInfo& info) {
  return info.kind == PathKind::Unusable && info.error != 0 && info.error != ELOOP &&
         info.error != ENOENT && info.error != ENAMETOOLONG && info.error != ENOTDIR;
}

PathInfo inspect_path(const std::string& path) {
  PathInfo info;
  struct stat st;
  if (path.empty()) {
    info.kind = PathKind::Unusable;
    info.reason = "is an empty path";
    return info;
  }
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    struct stat lst;
    info.kind = PathKind::Unusable;
    info.error = err;
    if (err == ENOENT && ::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
      info.reason = "is a dangling symbolic link (its target does not exist)";
    } else if (err == ENOENT) {
      info.kind = PathKind::Missing;
      info.reason = "no such file";
    } else if (err == ELOOP) {
      info.reason = "is a symbolic link loop (too many levels of links)";
    } else if (err == ENAMETOOLONG) {
      info.reason = "the path is too long for the file system";
    } else if (err == ENOTDIR) {
      info.reason = "a part of the path is not a folder";
    } else {
      info.reason = std::strerror(err);
    }
    return info;
  }
  if (S_ISREG(st.st_mode)) {
    info.kind = PathKind::Regular;
    info.size = static_cast<std::uint64_t>(st.st_size);
  } else if (S_ISDIR(st.st_mode)) {
    info.kind = PathKind::Directory;
    info.reason = "is a folder";
  } else if (S_ISFIFO(st.st_mode)) {
    info.kind = PathKind::Stream;
    info.reason = "is a FIFO (named pipe)";
  } else if (S_ISCHR(st.st_mode)) {
    info.kind = is_stream_device(st) ? PathKind::Stream : PathKind::Unusable;
    info.reason = "is a character device";
  } else if (S_ISBLK(st.st_mode)) {
    info.kind = PathKind::Unusable;
    info.reason = "is a block device";
  } else if (S_ISSOCK(st.st_mode)) {
    info.kind = PathKind::Unusable;
    info.reason = "is a socket";
  } else {
    info.kind = PathKind::Unusable;
    info.reason = "is not a regular file";
  }
  return info;
}

InputFile::InputFile(const std::string& path) : path_(path) {
  const PathInfo info = inspect_path(path);
  switch (info.kind) {
    case PathKind::Regular:
      break;
    case PathKind::Missing:
      throw FileError(path, "no such file");
    case PathKind::Directory:
      throw FileError(path, "is a folder, not a file");
    case PathKind::Stream:
      throw FileError(path, info.reason + ", not a regular file; it was not opened");
    case PathKind::Unusable:
      throw FileError(path, info.reason + (info.reason.rfind("is ", 0) == 0
                                               ? ", not a regular file; it was not opened"
                                               : ""));
  }
  // O_NONBLOCK: should the path have become a FIFO since the check, opening
  // it still does not block; the type is checked again on the descriptor.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd_ < 0) fail(path, "cannot open", errno);
  struct stat st;
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw FileError(path, "is not a regular file (it changed while being opened)");
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

InputFile::InputFile(InputFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), size_(other.size_) {
  other.fd_ = -1;
}

InputFile& InputFile::operator=(InputFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    size_ = other.size_;
    other.fd_ = -1;
  }
  return *this;
}

std::vector<unsigned char> InputFile::read_at(std::uint64_t offset, std::size_t n) const {
  std::vector<unsigned char> out(n);
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd_, out.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(path_, "read error", errno);
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

std::vector<unsigned char> InputFile::read_all(const ReadLimits& limits,
                                               std::vector<unsigned char> head) const {
  if (limits.max_bytes > 0 && size_ > limits.max_bytes) {
    throw FileError(path_, "the file is " + size_text(size_) + ", more than " +
                               (limits.max_bytes_reason.empty() ? size_text(limits.max_bytes)
                                                                : limits.max_bytes_reason) +
                               " allows; it was not read");
  }
  if (head.size() > size_) head.resize(static_cast<std::size_t>(size_));
  std::vector<unsigned char> bytes = std::move(head);
  std::size_t got = bytes.size();
  bytes.resize(static_cast<std::size_t>(size_));
  while (got < bytes.size()) {
    if (limits.stop && limits.stop()) throw Cancelled();
    const std::size_t want = std::min(kChunk, bytes.size() - got);
    const ssize_t r = ::pread(fd_, bytes.data() + got, want, static_cast<off_t>(got));
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(path_, "read error", errno);
    }
    if (r == 0) break;  // the file shrank: what is there is all there is
    got += static_cast<std::size_t>(r);
  }
  bytes.resize(got);
  return bytes;
}

std::vector<unsigned char> read_stream(int fd, const std::string& name, const ReadLimits& limits,
                                       std::vector<unsigned char> head, std::size_t up_to) {
  std::vector<unsigned char> bytes = std::move(head);
  while (bytes.size() < up_to) {
    if (limits.stop && limits.stop()) throw Cancelled();
    // Waits in slices, so that a stop request is seen while no data comes.
    pollfd ready{fd, POLLIN, 0};
    const int polled = ::poll(&ready, 1, 100);
    if (polled < 0 && errno != EINTR) fail(name, "read error", errno);
    if (polled <= 0) continue;
    const std::size_t got = bytes.size();
    const std::size_t want = std::min(kChunk, up_to - got);
    bytes.resize(got + want);
    const ssize_t r = ::read(fd, bytes.data() + got, want);
    if (r < 0) {
      bytes.resize(got);
      if (errno == EINTR || errno == EAGAIN) continue;
      fail(name, "read error", errno);
    }
    bytes.resize(got + static_cast<std::size_t>(r));
    if (r == 0) break;  // the end of the stream
    if (limits.max_bytes > 0 && bytes.size() > limits.max_bytes) {
      throw FileError(name, "the stream is more than " +
                                (limits.max_bytes_reason.empty() ? size_text(limits.max_bytes)
                                                                 : limits.max_bytes_reason) +
                                " allows; the rest was not read");
    }
  }
  return bytes;
}

void write_stream(int fd, const std::string& name, const std::vector<unsigned char>& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd ready{fd, POLLOUT, 0};
        ::poll(&ready, 1, 100);
        continue;
      }
      fail(name, errno == EPIPE ? "the reader closed it" : "write error", errno);
    }
    done += static_cast<std::size_t>(w);
  }
}

std::vector<unsigned char> read_file(const std::string& path, const ReadLimits& limits) {
  return InputFile(path).read_all(limits);
}

std::optional<FileId> file_id(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

bool same_file(const std::string& a, const std::string& b) {
  const auto id_a = file_id(a), id_b = file_id(b);
  return id_a && id_b && id_a->device == id_b->device && id_a->inode == id_b->inode;
}

}  // namespace fdiwn
