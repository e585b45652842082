// The rule every command follows before it starts: no output may be one of
// its inputs, and no two outputs may be one file. Inputs and outputs are
// compared as files, not as spellings (symbolic links, "..", bind mounts and
// hard links all count).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fdiwn/files.hpp"

namespace fdiwn::cli {

class OutputGuard {
 public:
  /// A file the command reads (a missing one is ignored).
  void add_input(const std::string& path);

  struct Conflict {
    bool with_input = false;  ///< an input, else another output
    std::string other;        ///< the input's path, or the other output's owner
  };
  /// Reserves `output` for `owner` (a file or an option, for messages), or
  /// returns what it conflicts with.
  std::optional<Conflict> claim(const std::string& output, const std::string& owner);

  /// claim(), throwing InvalidArgument on a conflict: "<output>: <what>
  /// would overwrite the input X" or "... is also where <other> goes".
  void claim_or_throw(const std::string& output, const std::string& what);

 private:
  std::map<std::string, std::string> inputs_;   // identity -> path as given
  std::map<FileId, std::string> input_files_;   // the same by device and inode
  std::map<std::string, std::string> outputs_;  // identity -> owner
};

/// The path that identifies a file however it was spelled (absolute, links
/// resolved as far as they exist, "." and ".." removed).
std::string file_identity(const std::string& path);

}  // namespace fdiwn::cli
