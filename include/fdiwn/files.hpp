// Files as fdiwn reads and writes them: one bounded reader for every input
// (images, weights, results to merge) and one safe writer for every output
// (images, CSV, JSON), so that each rule below holds for all of them.
//
// Reading: only regular files are opened. A FIFO, a device or a socket is
// refused from its type before it is opened (opening a FIFO blocks until a
// writer comes; /dev/zero never ends), a file larger than the caller's
// limit is refused before it is read, and a long read stops when the
// caller's stop flag is raised.
//
// Writing: a regular file (or a missing one) is replaced atomically: the
// data goes to a temporary file in the same folder, is flushed, and is
// renamed over the target, so the target is either untouched or complete.
// A symbolic link is written through (the link stays, its target is
// replaced the same way). A FIFO, a terminal or /dev/null is written in
// place, never renamed over. A folder, a socket, another device, a dangling
// link or a link loop is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>
#include "fdiwn/export.hpp"

FDIWN_API_BEGIN
namespace fdiwn {

/// What a path leads to, symbolic links followed.
enum class PathKind {
  Missing,    ///< nothing there (a dangling link counts as Unusable)
  Regular,    ///< a regular file
  Directory,  ///< a folder
  Stream,     ///< a FIFO, a terminal or /dev/null: written in place
  Unusable,   ///< anything else, or a path that cannot be followed (see `reason`)
};

struct PathInfo {
  PathKind kind = PathKind::Missing;
  /// For Stream, Unusable and Directory: what it is, for a message ("is a
  /// FIFO (named pipe)", "is a dangling symbolic link", "is a folder").
  std::string reason;
  std::uint64_t size = 0;  ///< Regular only
  /// The errno of the look that failed (Missing and Unusable), else 0.
  int error = 0;
};

/// Looks at `path` without opening it.
PathInfo inspect_path(const std::string& path);

/// Whether `info` is a look that failed (no permission to search a folder
/// on the path, an I/O error), rather than a path known to name no file (a
/// missing one, a dangling link, a link loop, a path too long): what is
/// there may be an image.
bool look_failed(const PathInfo& info);

/// Limits of one read.
struct ReadLimits {
  /// Refuse a file larger than this before reading it (0: no limit).
  std::uint64_t max_bytes = 0;
  /// What the limit is, for the message ("the memory budget (100 MiB)").
  std::string max_bytes_reason;
  /// Polled between chunks; when it returns true the read throws Cancelled.
  std::function<bool()> stop;
};

/// Reads a stream (standard input, a pipe) from `fd` to its end, or until
/// `up_to` bytes, after the bytes already read in `head`. Throws FileError
/// naming `name` past `limits.max_bytes` or on a read error, Cancelled when
/// `limits.stop` says so (polled while no data comes, every 0.1 s).
std::vector<unsigned char> read_stream(int fd, const std::string& name,
                                       const ReadLimits& limits = {},
                                       std::vector<unsigned char> head = {},
                                       std::size_t up_to = static_cast<std::size_t>(-1));

/// Writes all of `bytes` to `fd` (standard output, a pipe). Throws FileError
/// naming `name` if the reader closed it (with SIGPIPE ignored) or a write
/// fails.
void write_stream(int fd, const std::string& name, const std::vector<unsigned char>& bytes);

/// A regular file open for reading. Move-only; closes on destruction.
class InputFile {
 public:
  /// Opens `path`. Throws FileError (naming the path and the reason) if it is
  /// missing, a folder, not a regular file (refused before opening), a
  /// dangling link or a link loop, or cannot be opened.
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&& other) noexcept;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }
  /// The size when it was opened.
  std::uint64_t size() const { return size_; }

  /// Up to `n` bytes from `offset` (fewer at the end of the file).
  std::vector<unsigned char> read_at(std::uint64_t offset, std::size_t n) const;

  /// The whole file (size() bytes, or fewer if it shrank meanwhile). Throws
  /// FileError if it is larger than `limits.max_bytes` (before reading) or a
  /// read fails, Cancelled if `limits.stop` says so. `head`, if given, holds
  /// bytes already read from offset 0; they are not read again.
  std::vector<unsigned char> read_all(const ReadLimits& limits = {},
                                      std::vector<unsigned char> head = {}) const;

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

/// InputFile(path).read_all(limits).
std::vector<unsigned char> read_file(const std::string& path, const ReadLimits& limits = {});

/// Observers of the temporary file a write goes through, so that a caller can
/// remove it if the process is interrupted mid-write (see signals in the CLI).
struct TempFileHooks {
  std::function<void(const std::string& temp_path)> created;
  std::function<void(const std::string& temp_path)> finished;  ///< renamed or removed
};

/// Writes `size` bytes to `path` by the rules at the top of this header.
/// Throws FileError naming `path` and the reason (no folder, no permission,
/// a full disk, a kind of file that cannot be written); after a failure no
/// temporary file is left and `path` is untouched.
void write_file(const std::string& path, const void* data, std::size_t size,
                const TempFileHooks* hooks = nullptr);

inline void write_file(const std::string& path, const std::vector<unsigned char>& bytes,
                       const TempFileHooks* hooks = nullptr) {
  write_file(path, bytes.data(), bytes.size(), hooks);
}
inline void write_file(const std::string& path, const std::string& text,
                       const TempFileHooks* hooks = nullptr) {
  write_file(path, text.data(), text.size(), hooks);
}

/// Why `path` cannot be created as an output (a file name longer than its
/// file system allows, a path longer than PATH_MAX), or nullopt. Checked
/// before any work, so that a long name fails at once, not after the work.
std::optional<std::string> output_path_problem(const std::string& path);

/// Which file a path leads to (links followed): two paths with the same id
/// are one file, whatever their spelling (hard links, bind mounts).
struct FileId {
  std::uint64_t device = 0, inode = 0;
  bool operator<(const FileId& o) const {
    return device != o.device ? device < o.device : inode < o.inode;
  }
};
/// The id of the file at `path`, or nullopt if there is none.
std::optional<FileId> file_id(const std::string& path);
/// True if both paths lead to one existing file (file_id equal).
bool same_file(const std::string& a, const std::string& b);

}  // namespace fdiwn
FDIWN_API_END
