// Exceptions thrown by the fdiwn library.
//
// The library never logs and never exits: it throws one of these with a
// message that names the file and, where it applies, the key and shapes.
// Callers (the CLI) decide log levels and exit codes from the type.
#pragma once

#include <stdexcept>
#include <string>
#include "fdiwn/export.hpp"

FDIWN_API_BEGIN
namespace fdiwn {

/// Base class of every error the library throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A weights file is missing, unreadable, not a weights file, or does not
/// match the network (missing/unexpected key, shape, scale).
class WeightsError : public Error {
 public:
  WeightsError(const std::string& path, const std::string& reason)
      : Error(path + ": " + reason), path_(path), reason_(reason) {}
  const std::string& path() const noexcept { return path_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string path_;
  std::string reason_;
};

/// An image could not be read, decoded, processed or written.
class ImageError : public Error {
 public:
  ImageError(const std::string& path, const std::string& reason)
      : Error(path + ": " + reason), path_(path), reason_(reason) {}
  const std::string& path() const noexcept { return path_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string path_;
  std::string reason_;
};

/// A file could not be read or written: missing, not a regular file, no
/// permission, too large for the limit given, a full disk. Image and weights
/// code turn it into their own error type where the caller needs to tell
/// them apart.
class FileError : public Error {
 public:
  FileError(const std::string& path, const std::string& reason)
      : Error(path + ": " + reason), path_(path), reason_(reason) {}
  const std::string& path() const noexcept { return path_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string path_;
  std::string reason_;
};

/// A caller passed a value the library cannot work with (a scale other than
/// 2/3/4, an image of an unsupported type, ...).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// The work needs more memory than the budget allows, even when split.
class InsufficientMemory : public Error {
 public:
  using Error::Error;
};

/// An operation was abandoned on request (a progress callback threw this).
class Cancelled : public Error {
 public:
  Cancelled() : Error("cancelled") {}
};

}  // namespace fdiwn
FDIWN_API_END
