#include "cli/scoring/named_folders.hpp"

#include <filesystem>
#include <regex>
#include <set>

#include "fdiwn/errors.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;

namespace {

bool is_folder(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

// A path part that says what kind of images a folder holds, not which set.
bool generic_part(const std::string& part) {
  static const std::regex generic(
      "x([0-9]+|\\{scale\\})|\\{scale\\}|\\{set\\}|hr|lr|sr|gt|lr_bicubic|hr_x[0-9]+|\\.|",
      std::regex::icase);
  return std::regex_match(part, generic);
}

}  // namespace

std::string folder_label(const std::string& dir) {
  const fs::path path(dir);
  std::vector<std::string> parts;
  for (const auto& p : path) parts.push_back(p.string());
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    if (!generic_part(*it) && *it != "/" && *it != "..") return *it;
  }
  return dir;
}

NamedFolder parse_named_folder(const std::string& arg, const std::string& option) {
  NamedFolder f;
  const auto eq = arg.find('=');
  const bool named = eq != std::string::npos && eq > 0 &&
                     arg.substr(0, eq).find('/') == std::string::npos && !is_folder(arg);
  if (named) {
    f.name = arg.substr(0, eq);
    f.dir = arg.substr(eq + 1);
  } else {
    f.dir = arg;
    f.name = folder_label(arg);
  }
  if (f.dir.empty()) throw InvalidArgument(option + " '" + arg + "': no folder after the name");
  return f;
}

NamedFolder parse_test_set(const std::string& arg) {
  const auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || arg.substr(0, eq).find('/') != std::string::npos) {
    throw InvalidArgument("--set '" + arg + "': give NAME=HR_DIR or NAME=HR_DIR:LR_DIR");
  }
  NamedFolder f{arg.substr(0, eq), arg.substr(eq + 1), ""};
  const auto colon = f.dir.find(':');
  if (colon != std::string::npos && !is_folder(f.dir)) {
    f.lr = f.dir.substr(colon + 1);
    f.dir = f.dir.substr(0, colon);
    if (f.lr.empty()) throw InvalidArgument("--set '" + arg + "': no LR folder after the ':'");
  }
  if (f.dir.empty()) throw InvalidArgument("--set '" + arg + "': no HR folder after the name");
  return f;
}

void check_unique_names(const std::vector<NamedFolder>& folders, const std::string& option) {
  std::set<std::string> seen;
  for (const auto& f : folders) {
    if (!seen.insert(f.name).second) {
      throw InvalidArgument(option + ": two folders are named '" + f.name + "'; name them apart (" +
                            option + " NAME=DIR)");
    }
  }
}

std::string with_set(const std::string& pattern, const std::string& set) {
  std::string s = pattern;
  for (size_t at = 0; (at = s.find("{set}", at)) != std::string::npos; at += set.size()) {
    s.replace(at, 5, set);
  }
  return s;
}

}  // namespace fdiwn::cli
