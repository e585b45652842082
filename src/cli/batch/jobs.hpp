// Turning the command line's inputs into a list of (input, output) jobs.
#pragma once

#include <string>
#include <vector>

#include "cli/batch/output_size.hpp"

namespace fdiwn::cli {

struct JobRequest {
  std::vector<std::string> inputs;  ///< files and/or folders
  std::string output;               ///< a file (one input file) or a folder
  bool recursive = false;
  int quality = 0;           ///< --quality as given (0: not given)
  std::string format;        ///< output extension without dot; empty: from -o or the input
  std::string name_pattern;  ///< "{name}", "{ext}", "{scale}"; empty: "{name}.{ext}"
  int scale = 4;             ///< the network's
  OutputSize size;           ///< --outscale, --width, --height: the output's size
};

struct Job {
  std::string input;
  std::string output;
  std::string display;  ///< the input as the user would recognise it (relative to its root)
  /// Why the output cannot be written (a name too long for its file system),
  /// found before any work; the job then fails at once.
  std::string problem;
  /// The output format's extension ("png"), where the output's name cannot
  /// say it (-o -: standard output); empty otherwise.
  std::string format;
};

/// "-" as an input or output: standard input or output.
inline bool is_stream(const std::string& path) {
  return path == "-";
}

struct JobList {
  std::vector<Job> jobs;
  /// Files found in folders that are not images by their extension.
  std::vector<std::string> ignored;
  /// Images in folders left out for a name starting with '.'.
  std::vector<std::string> hidden;
  /// Sub-folders of input folders left out without -r.
  std::vector<std::string> not_descended;
  /// Entries of folders left out for another reason, each a message naming
  /// the entry and the reason (a FIFO, a dangling link, an output of
  /// another input).
  std::vector<std::string> skipped;
  /// Entries of input folders that could not be read: a folder that could
  /// not be listed, an entry whose type could not be read. Each has the
  /// reason as its `problem`: images may be missed, so each fails the run
  /// as an unreadable file does.
  std::vector<Job> unreadable;
  /// Options given that can do nothing here, each a message saying why
  /// (--quality with no JPEG, WebP or AVIF output; -r with no folder).
  std::vector<std::string> unused_options;
  /// The folder outputs go to (the -o folder, or the parent of the -o file).
  std::string output_folder;
};

/// Expands folders (sorted; hidden files (listed), the output folder and files that
/// are another input's output left out), names the outputs, and checks the
/// request: throws fdiwn::InvalidArgument (a usage error) for a missing
/// input, an empty or file output where a folder is needed, an output
/// format that cannot be written or that --name and --format disagree on,
/// two inputs mapping to one output, or an output that would overwrite any
/// input.
JobList list_jobs(const JobRequest& request);

/// Expands "{name}", "{ext}" and "{scale}" in `pattern`; throws
/// InvalidArgument for an unknown placeholder or a '/' in the pattern.
std::string expand_name(const std::string& pattern, const std::string& stem, const std::string& ext,
                        const std::string& scale);

/// The format an extension names, for comparisons: "jpg", "JPEG" and "jpe"
/// are "jpeg"; "tif" is "tiff"; others lower-cased, without a dot.
std::string format_of_extension(std::string extension);

}  // namespace fdiwn::cli
