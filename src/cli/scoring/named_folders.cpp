#include "cli/scoring/named_folders.hpp"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "cli/report/printable.hpp"
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
  // The path as given, then as an absolute path ("HR/x4" run from inside
  // "Set5", or "."): the same folder gets the same name either way only
  // when the given path names it, which is the common case.
  std::error_code ec;
  const fs::path absolute = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  for (const fs::path& path : {fs::path(dir), absolute}) {
    std::vector<std::string> parts;
    for (const auto& p : path) parts.push_back(p.string());
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      if (!generic_part(*it) && *it != "/" && *it != "..") return *it;
    }
  }
  return "set";
}

namespace {

// A name is a row or column label and may become a folder (--save-sr): it
// needs something visible, no '/' or control character, and not to be "."
// or ".." (found by hand: a set named ".." put its images beside the
// --save-sr folder instead of in it).
void check_name(const std::string& name, const std::string& option, const std::string& arg) {
  const bool blank = name.find_first_not_of(" \t") == std::string::npos;
  const bool control = std::any_of(name.begin(), name.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
  });
  if (blank || control || name.find('/') != std::string::npos || name == "." || name == "..") {
    throw InvalidArgument(option + " '" + printable(arg) + "': the name before '=' must be " +
                          "printable, not blank, not '.' or '..', and hold no '/'");
  }
}

}  // namespace

NamedFolder parse_named_folder(const std::string& arg, const std::string& option) {
  NamedFolder f;
  const auto eq = arg.find('=');
  if (eq == 0) check_name("", option, arg);
  const bool named = eq != std::string::npos && eq > 0 &&
                     arg.substr(0, eq).find('/') == std::string::npos && !is_folder(arg);
  if (named) {
    f.name = arg.substr(0, eq);
    f.dir = arg.substr(eq + 1);
  } else {
    f.dir = arg;
    f.name = folder_label(arg);
  }
  if (named) check_name(f.name, option, arg);
  if (f.dir.empty()) throw InvalidArgument(option + " '" + arg + "': no folder after the name");
  return f;
}

NamedFolder parse_test_set(const std::string& arg) {
  const auto eq = arg.find('=');
  if (eq == std::string::npos) {
    throw InvalidArgument("--set '" + printable(arg) + "': give NAME=HR_DIR or NAME=HR_DIR:LR_DIR");
  }
  NamedFolder f{arg.substr(0, eq), arg.substr(eq + 1), ""};
  check_name(f.name, "--set", arg);
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
