#include "cli/scoring/pairing.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <regex>

#include <spdlog/spdlog.h>

#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"
#include "fdiwn/image_io.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;

std::string pairing_key(const std::string& stem) {
  // Trailing markers, removed one at a time until none is left.
  static const std::regex markers[] = {
      std::regex("[_-](hr|lr|lrbi|sr|bi|bd|dn|gt)$", std::regex::icase),
      std::regex("[_-]?x[1-8]$", std::regex::icase),
      std::regex("[_-]srf[_-]?[1-8]$", std::regex::icase),
  };
  std::string key = stem;
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& re : markers) {
      const std::string next = std::regex_replace(key, re, "");
      if (next != key && !next.empty()) {
        key = next;
        changed = true;
      }
    }
  }
  return key;
}

std::vector<std::string> list_images(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    // As upscale says it (found by hand: a missing folder was "not a folder").
    throw InvalidArgument(dir + (fs::exists(dir, ec) ? ": not a folder" : ": no such folder"));
  }
  std::vector<std::string> files;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const auto& p = it->path();
    const std::string name = p.filename().string();
    if (name.empty() || name[0] == '.' || !is_readable_extension(p.extension().string())) continue;
    const PathInfo info = inspect_path(p.string());
    // One that could not be looked at (no permission) is read, and fails
    // alone with the reason (found by hand: "Permission denied, not an image
    // file", and the set scored without it).
    if (info.kind == PathKind::Regular || look_failed(info)) {
      files.push_back(p.string());
    } else if (info.kind != PathKind::Missing) {
      // Named like an image but not one that can be read: say so, since the
      // set is then smaller than its folder suggests.
      spdlog::warn("{}: {}, not an image file; left out", p.string(), info.reason);
    }
  }
  if (ec) throw InvalidArgument(dir + ": cannot list the folder: " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

namespace {

std::map<std::string, std::string> by_key(const std::string& dir) {
  std::map<std::string, std::string> keyed;
  for (const auto& f : list_images(dir)) {
    const std::string key = pairing_key(fs::path(f).stem().string());
    auto [it, fresh] = keyed.emplace(key, f);
    if (!fresh) {
      throw InvalidArgument(f + " and " + it->second + " both pair as '" + key +
                            "'; keep one of them in " + dir);
    }
  }
  return keyed;
}

}  // namespace

std::vector<ImagePair> pair_images(const std::string& hr_dir, const std::string& other_dir,
                                   std::vector<std::string>* unmatched) {
  const auto hr = by_key(hr_dir);
  if (hr.empty()) throw InvalidArgument(hr_dir + ": no images");
  std::vector<ImagePair> pairs;
  if (other_dir.empty()) {
    for (const auto& [key, path] : hr) pairs.push_back({key, path, ""});
    return pairs;
  }
  auto other = by_key(other_dir);
  for (const auto& [key, path] : hr) {
    auto it = other.find(key);
    if (it == other.end()) {
      pairs.push_back({key, path, ""});
      continue;
    }
    pairs.push_back({key, path, it->second});
    other.erase(it);
  }
  if (unmatched) {
    for (const auto& kv : other) unmatched->push_back(kv.second);
  }
  return pairs;
}

std::string with_scale(const std::string& pattern, int scale) {
  std::string s = pattern;
  for (size_t at; (at = s.find("{scale}")) != std::string::npos;) {
    s.replace(at, 7, std::to_string(scale));
  }
  return s;
}

}  // namespace fdiwn::cli
