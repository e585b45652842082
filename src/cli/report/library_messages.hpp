// Messages the libraries print on their own ("libpng error: IDAT: invalid
// distance too far back", libtiff's warnings) name no file and would come
// before fdiwn's one-line error, which does. So the command moves its
// standard error to a pipe read by a thread that logs each such line at
// debug level (shown with -v), and logs through a copy of the original
// standard error. Not in sanitizer builds, whose reports must reach the
// terminal before the process aborts.
#pragma once

#include <cstdio>
#include <string>

namespace fdiwn::cli {

/// A stream on the original standard error, for the log to write to
/// (stderr itself in sanitizer builds). First called before the log is set
/// up (and standard error captured); later calls return the same stream.
std::FILE* log_stream();

/// Moves standard error to the pipe and starts the thread that logs what
/// arrives there. Call once, after the log is set up.
void capture_library_messages();

/// The descriptor of the original standard error, for child processes.
int original_stderr();

/// Writes a report (--csv, --json) to `path` (fdiwn::write_file); a path
/// that names the captured standard error (/dev/stderr, /dev/fd/2) gets it
/// on the original one, where it went into the capture and was lost.
void write_report(const std::string& path, const std::string& text);

/// Refuses, before any work, a report path that could never be written: a
/// folder, something unusable, or a file in a folder that does not exist
/// (InvalidArgument naming `option`).
void check_report_path(const std::string& path, const std::string& option);

}  // namespace fdiwn::cli
