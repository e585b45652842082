// Folders named on the command line for a table: metrics' methods
// (--sr NAME=DIR) and the test sets of bench and metrics (--set NAME=HR,
// bench also NAME=HR:LR). A folder given without a name is named after it.
#pragma once

#include <string>
#include <vector>

namespace fdiwn::cli {

struct NamedFolder {
  std::string name;
  std::string dir;
  std::string lr;  ///< bench's --set NAME=HR:LR only
};

/// "Set5" for "tests/data/Set5/HR/x4": the last part of the path that is
/// not a scale ("x4", "x{scale}"), a role ("HR", "LR", "SR", "GT") or a
/// placeholder; the whole path if every part is one.
std::string folder_label(const std::string& dir);

/// "NAME=DIR", or "DIR" (named by folder_label). What precedes the first
/// '=' is a name if it is not empty and holds no '/', unless the whole
/// argument is an existing folder. Throws InvalidArgument naming `option`
/// for an empty name or folder.
NamedFolder parse_named_folder(const std::string& arg, const std::string& option);

/// bench's --set: "NAME=HR" or "NAME=HR:LR" (split at the first ':' after
/// the name, unless HR:LR as a whole is an existing folder).
NamedFolder parse_test_set(const std::string& arg);

/// Throws InvalidArgument if two folders share a name (their rows or
/// columns would be one).
void check_unique_names(const std::vector<NamedFolder>& folders, const std::string& option);

/// Replaces "{set}" with the set's name (one layout for every set:
/// --sr FDIWN=results/{set}/x{scale}).
std::string with_set(const std::string& pattern, const std::string& set);

}  // namespace fdiwn::cli
