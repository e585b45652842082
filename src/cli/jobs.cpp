#include "jobs.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

#include "fdiwn/errors.hpp"
#include "fdiwn/image_io.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string extension_of(const fs::path& p) {
  std::string e = p.extension().string();
  return lower(e.empty() ? e : e.substr(1));
}

// The path that identifies a file whatever way it was spelled.
fs::path identity(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(fs::absolute(p, ec), ec);
  return ec ? fs::absolute(p).lexically_normal() : c;
}

bool is_hidden(const fs::path& p) {
  const std::string n = p.filename().string();
  return !n.empty() && n[0] == '.';
}

struct Found {
  fs::path file;
  fs::path relative;  // to the folder it was found in (the file name for a file input)
};

void scan_folder(const fs::path& root, bool recursive, const fs::path& skip_dir,
                 std::vector<Found>& found, std::vector<std::string>& ignored) {
  std::vector<fs::path> entries;
  std::error_code ec;
  if (recursive) {
    auto it =
        fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const fs::path& p = it->path();
      // Hidden folders, and the output folder when it lies inside the input
      // folder (its files would otherwise be upscaled again on a re-run).
      if (it->is_directory(ec) && (is_hidden(p) || identity(p) == skip_dir)) {
        it.disable_recursion_pending();
        continue;
      }
      entries.push_back(p);
    }
  } else {
    for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      entries.push_back(it->path());
    }
  }
  if (ec) throw InvalidArgument(root.string() + ": cannot list the folder: " + ec.message());
  std::sort(entries.begin(), entries.end());
  for (const auto& p : entries) {
    std::error_code fec;
    if (!fs::is_regular_file(p, fec) || is_hidden(p)) continue;  // incl. our temp files
    if (!is_readable_extension(extension_of(p))) {
      ignored.push_back(p.string());
      continue;
    }
    found.push_back({p, p.lexically_relative(root)});
  }
}

}  // namespace

std::string expand_name(const std::string& pattern, const std::string& stem, const std::string& ext,
                        int scale) {
  if (pattern.find('/') != std::string::npos) {
    throw InvalidArgument("--name '" + pattern + "': a name pattern cannot contain '/'");
  }
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      out += pattern[i];
      continue;
    }
    const size_t close = pattern.find('}', i);
    const std::string key = close == std::string::npos ? "" : pattern.substr(i + 1, close - i - 1);
    if (key == "name") {
      out += stem;
    } else if (key == "ext") {
      out += ext;
    } else if (key == "scale") {
      out += std::to_string(scale);
    } else {
      throw InvalidArgument("--name '" + pattern +
                            "': unknown placeholder; use {name}, {ext} and {scale}");
    }
    i = close;
  }
  if (out.empty() || out == "." || out == "..") {
    throw InvalidArgument("--name '" + pattern + "' gives an empty file name");
  }
  return out;
}

JobList plan_jobs(const JobRequest& request) {
  if (request.inputs.empty()) throw InvalidArgument("no input given (-i)");
  if (!request.format.empty() && !is_writable_extension(request.format)) {
    throw InvalidArgument("--format " + request.format +
                          ": cannot write that format (png, jpg, webp, tiff, bmp, ppm, pgm)");
  }
  const std::string pattern = request.name_pattern.empty() ? "{name}.{ext}" : request.name_pattern;
  const fs::path out(request.output);
  std::error_code ec;

  // One input file and an output that is not a folder: a file-to-file job.
  const bool single_file = request.inputs.size() == 1 && !fs::is_directory(request.inputs[0], ec);
  const bool output_is_folder =
      fs::is_directory(out, ec) || (!request.output.empty() && request.output.back() == '/');
  const fs::path out_dir_identity = identity(out);

  JobList list;
  std::vector<Found> found;
  for (const auto& in : request.inputs) {
    const fs::path p(in);
    if (!fs::exists(p, ec)) throw InvalidArgument(in + ": no such file or folder");
    if (fs::is_directory(p, ec)) {
      scan_folder(p, request.recursive, out_dir_identity, found, list.ignored);
    } else {
      found.push_back({p, p.filename()});
    }
  }

  if (single_file && !output_is_folder) {
    std::string ext = extension_of(out);
    if (!request.format.empty() && ext != lower(request.format)) {
      throw InvalidArgument(request.output + ": the extension does not match --format " +
                            request.format);
    }
    if (!is_writable_extension(ext)) {
      throw InvalidArgument(request.output + (ext.empty()
                                                  ? ": no extension to choose the image format from"
                                                  : ": cannot write ." + ext + " images"));
    }
    list.jobs.push_back({found[0].file.string(), request.output, request.inputs[0]});
    list.output_folder = out.has_parent_path() ? out.parent_path().string() : ".";
  } else {
    // "out/" -> "out", for messages.
    const fs::path normal = out.lexically_normal();
    list.output_folder = (normal.has_filename() ? normal : normal.parent_path()).string();
    if (fs::exists(out, ec) && !fs::is_directory(out, ec)) {
      throw InvalidArgument(request.output +
                            ": is a file, but several inputs need an output folder");
    }
    for (const auto& f : found) {
      std::string ext = request.format.empty() ? extension_of(f.file) : lower(request.format);
      if (!is_writable_extension(ext)) ext = "png";
      const std::string name = expand_name(pattern, f.file.stem().string(), ext, request.scale);
      const fs::path dest = out / f.relative.parent_path() / name;
      list.jobs.push_back({f.file.string(), dest.lexically_normal().string(), f.relative.string()});
    }
  }

  // Never write over an input, and never write two results to one file.
  std::map<fs::path, std::string> inputs;
  for (const auto& j : list.jobs) inputs.emplace(identity(j.input), j.input);
  std::map<fs::path, std::string> outputs;
  for (const auto& j : list.jobs) {
    const fs::path id = identity(j.output);
    if (auto it = inputs.find(id); it != inputs.end()) {
      throw InvalidArgument(j.output + ": the output would overwrite the input " + it->second +
                            "; choose another -o or --name");
    }
    if (auto [it, fresh] = outputs.emplace(id, j.input); !fresh) {
      throw InvalidArgument(j.output + ": both " + it->second + " and " + j.input +
                            " would be written there; use --name with {ext}, or --format");
    }
  }
  return list;
}

}  // namespace fdiwn::cli
