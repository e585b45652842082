// Listing the input folders: the images in them, in name order, and what
// was left out or could not be read, each with the reason.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cli/batch/jobs.hpp"

namespace fdiwn::cli {

/// An image among the inputs.
struct Found {
  std::filesystem::path file;
  /// To the folder it was found in (the file name for a file input).
  std::filesystem::path relative;
  bool from_folder = false;
};

/// The extension of `p`, lower-case, without its dot ("png"; "" if none).
std::string extension_of(const std::filesystem::path& p);

/// Lists `root` and, if `recursive`, its sub-folders (by hand, so that each
/// one that cannot be listed is reported rather than silently skipped),
/// appending the images found (by their extension, in name order) to
/// `found`, and to `list` what was left out: hidden images, sub-folders
/// without -r, entries that are not images or not regular files (each with
/// the reason), and what could not be read (JobList::unreadable). Symbolic
/// links to folders are not followed (no loops); `skip_dir` (the output
/// folder, by identity) is left out.
void scan_folder(const std::filesystem::path& root, bool recursive,
                 const std::filesystem::path& skip_dir, JobList& list, std::vector<Found>& found);

}  // namespace fdiwn::cli
