#include "cli/batch/jobs.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>
#include <system_error>

#include "cli/batch/earlier_outputs.hpp"
#include "cli/batch/folder_scan.hpp"
#include "cli/batch/output_guard.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"
#include "fdiwn/image_io.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

fs::path identity(const fs::path& p) {
  return file_identity(p.string());
}

}  // namespace

std::string format_of_extension(std::string extension) {
  if (!extension.empty() && extension[0] == '.') extension.erase(0, 1);
  extension = lower(extension);
  if (extension == "jpg" || extension == "jpe") return "jpeg";
  if (extension == "tif") return "tiff";
  return extension;
}

namespace {

// The format of an output whose name cannot say it (standard output, a FIFO
// or /dev/null without an extension): -f, or PNG.
std::string unnamed_output_format(const JobRequest& request) {
  return request.format.empty() ? "png" : lower(request.format);
}

// The format of an output file named by -o: "" when its extension says it
// (checked: a format fdiwn writes, the one --format asks for). A FIFO,
// terminal or /dev/null without an extension is written in place, its
// format from -f, or PNG as for -o - (found by hand: -o /dev/null was
// refused for want of an extension, and later -i - -o /dev/null too).
std::string output_file_format(const JobRequest& request) {
  const std::string ext = extension_of(request.output);
  if (ext.empty()) {
    std::error_code ec;
    const PathInfo target = inspect_path(request.output);
    if (target.kind == PathKind::Stream) return unnamed_output_format(request);
    // A device or socket that is neither /dev/null nor a terminal (found by
    // hand: -o /dev/full -f png said it lacked an extension).
    if (target.kind == PathKind::Unusable && fs::exists(request.output, ec)) {
      throw InvalidArgument(request.output + ": " + target.reason +
                            "; fdiwn writes files, FIFOs, terminals and /dev/null");
    }
    // Found by hand: with -f, this said the extension did not match it.
    throw InvalidArgument(request.output +
                          ": no extension to choose the image format from (-f chooses it for "
                          "folders, -o - and devices only)");
  }
  if (!request.format.empty() && format_of_extension(ext) != format_of_extension(request.format)) {
    throw InvalidArgument(request.output + ": the extension does not match --format " +
                          request.format);
  }
  if (!is_writable_extension(ext)) {
    throw InvalidArgument(request.output + ": cannot write ." + ext + " images");
  }
  return "";
}

std::string folder_of_file(const std::string& output) {
  const fs::path out(output);
  return out.has_parent_path() ? out.parent_path().string() : ".";
}

// One image through standard input (-i -) or output (-o -), or both.
JobList stream_job(const JobRequest& request) {
  const std::string& in = request.inputs[0];
  if (request.inputs.size() != 1) {
    throw InvalidArgument(is_stream(request.output)
                              ? "-o -: standard output takes one image; give one input file"
                              : "-i -: standard input is one image; give no other input");
  }
  std::error_code ec;
  if (!is_stream(in) && fs::is_directory(in, ec)) {
    throw InvalidArgument(in + ": is a folder; -o - writes one image to standard output");
  }
  Job job{in, request.output, is_stream(in) ? "standard input" : in, "", ""};
  JobList list;
  list.output_folder = ".";
  if (is_stream(request.output)) {
    job.format = unnamed_output_format(request);
    list.jobs.push_back(job);
    return list;
  }
  if (fs::is_directory(request.output, ec) || request.output.back() == '/') {
    throw InvalidArgument(request.output + ": is a folder; -i - needs an output file or -o -");
  }
  job.format = output_file_format(request);
  list.output_folder = folder_of_file(request.output);
  if (const auto problem = output_path_problem(request.output)) job.problem = *problem;
  list.jobs.push_back(job);
  return list;
}

// Options that can do nothing for this request are said, not ignored
// without a word (found by hand: --quality 50 with PNG outputs, -r with
// files only). `folders`: whether any input is a folder.
JobList with_unused_options(const JobRequest& request, JobList list, bool folders) {
  std::vector<std::string> formats;  // of the outputs, each once
  std::string names;                 // "PNG, TIFF"
  for (const auto& j : list.jobs) {
    std::string f = format_of_extension(j.format.empty() ? extension_of(j.output) : j.format);
    if (std::find(formats.begin(), formats.end(), f) != formats.end()) continue;
    formats.push_back(f);
    for (char& c : f) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    names += (names.empty() ? "" : ", ") + f;
  }
  const auto takes_quality = [](const std::string& f) {
    return f == "jpeg" || f == "webp" || f == "avif";
  };
  if (request.quality > 0 && !formats.empty() &&
      std::none_of(formats.begin(), formats.end(), takes_quality)) {
    list.unused_options.push_back("--quality " + std::to_string(request.quality) +
                                  " is ignored: it sets JPEG, WebP and AVIF outputs, and the "
                                  "outputs here are " +
                                  names + " (-f or the -o extension chooses the format)");
  }
  if (request.recursive && !folders) {
    list.unused_options.push_back("-r is ignored: no input is a folder to descend into");
  }
  return list;
}

}  // namespace

JobList list_jobs(const JobRequest& request) {
  if (request.inputs.empty()) throw InvalidArgument("no input given (-i)");
  if (request.output.empty()) throw InvalidArgument("-o is empty: give an output file or folder");
  for (const auto& in : request.inputs) {
    if (in.empty()) throw InvalidArgument("-i has an empty file name");
  }
  if (!request.format.empty() && !is_writable_extension(request.format)) {
    throw InvalidArgument("--format " + request.format +
                          ": cannot write that format (png, jpg, webp, avif, tiff, bmp, ppm, pgm)");
  }
  const fs::path out(request.output);
  std::error_code ec;
  const bool streams = is_stream(request.output) ||
                       std::any_of(request.inputs.begin(), request.inputs.end(), is_stream);
  // One input file and an output that is not a folder: a file-to-file job.
  const bool single_file = request.inputs.size() == 1 && !fs::is_directory(request.inputs[0], ec);
  const bool output_is_folder =
      fs::is_directory(out, ec) || (!request.output.empty() && request.output.back() == '/');
  // --name names the files of an output folder; a file or stream named by
  // -o has its name (found by hand: --name was ignored without a word).
  if (!request.name_pattern.empty() && (streams || (single_file && !output_is_folder))) {
    throw InvalidArgument("--name '" + request.name_pattern +
                          "' names the files of an output folder; -o " + request.output +
                          " names the output itself: give -o a folder, or leave --name out");
  }
  // (stream_job refuses a folder.)
  if (streams) return with_unused_options(request, stream_job(request), false);
  const std::string pattern = request.name_pattern.empty() ? "{name}.{ext}" : request.name_pattern;
  const fs::path out_dir_identity = identity(out);

  JobList list;
  std::vector<Found> found;
  bool folders = false;
  for (const auto& in : request.inputs) {
    const fs::path p(in);
    const PathInfo info = inspect_path(in);
    if (info.kind == PathKind::Missing) throw InvalidArgument(in + ": no such file or folder");
    // A path through a file ("a.png/", "a.png/b.png") names nothing either
    // (found by hand: it failed as an unreadable file, exit 1).
    if (info.error == ENOTDIR) {
      throw InvalidArgument(in + ": no such file or folder (a part of the path is a file)");
    }
    if (info.kind == PathKind::Directory) {
      folders = true;
      scan_folder(p, request.recursive, out_dir_identity, list, found);
    } else {
      // Not a regular file: the reader refuses it, naming the reason.
      found.push_back({p, p.filename(), false});
    }
  }

  if (single_file && !output_is_folder) {
    list.jobs.push_back({found[0].file.string(), request.output, request.inputs[0], "",
                         output_file_format(request)});
    list.output_folder = folder_of_file(request.output);
  } else {
    // "out/" -> "out", for messages.
    const fs::path normal = out.lexically_normal();
    list.output_folder = (normal.has_filename() ? normal : normal.parent_path()).string();
    if (fs::exists(out, ec) && !fs::is_directory(out, ec)) {
      throw InvalidArgument(request.output +
                            ": is a file, but several inputs need an output folder");
    }
    // {scale}: the output's factor (found by hand: --outscale 6 named its
    // files x3, the network's scale).
    char factor[32];
    std::snprintf(factor, sizeof factor, "%g", request.size.factor);  // 1.2345 stays apart
    const std::string scale = request.size.factor > 0 ? factor : std::to_string(request.scale);
    if ((request.size.width > 0 || request.size.height > 0) &&
        pattern.find("{scale}") != std::string::npos) {
      throw InvalidArgument("--name '" + pattern +
                            "': {scale} differs from image to image with --width or --height");
    }
    std::vector<bool> from_folder;
    for (const auto& f : found) {
      std::string ext = request.format.empty() ? extension_of(f.file) : lower(request.format);
      if (!is_writable_extension(ext)) ext = "png";
      const std::string name = expand_name(pattern, f.file.stem().string(), ext, scale);
      // The written format is the name's extension: it must be one fdiwn
      // writes, and the one --format asks for.
      const std::string name_ext = extension_of(name);
      if (!is_writable_extension(name_ext)) {
        throw InvalidArgument("--name '" + pattern + "' makes '" + name +
                              "', whose extension is not an image format fdiwn writes (png, jpg, "
                              "webp, avif, tiff, bmp, ppm, pgm); end the pattern with .{ext}");
      }
      if (!request.format.empty() &&
          format_of_extension(name_ext) != format_of_extension(request.format)) {
        throw InvalidArgument("--name '" + pattern + "' makes '" + name +
                              "', which does not match --format " + request.format);
      }
      const fs::path dest = out / f.relative.parent_path() / name;
      list.jobs.push_back(
          {f.file.string(), dest.lexically_normal().string(), f.relative.string(), "", ""});
      from_folder.push_back(f.from_folder);
    }
    drop_earlier_outputs(list.jobs, from_folder, request, list.skipped);
  }

  // Never write over an input, and never write two results to one file.
  OutputGuard guard;
  for (const auto& j : list.jobs) guard.add_input(j.input);
  for (auto& j : list.jobs) {
    if (const auto c = guard.claim(j.output, j.input)) {
      if (c->with_input) {
        // Which job, and which input (found in review: both were one path).
        const bool itself = same_file(j.input, c->other);
        throw InvalidArgument(j.output + ": the output of " + (itself ? "this input" : j.input) +
                              " would overwrite the input" + (itself ? " itself" : " " + c->other) +
                              "; choose another -o, -f or --name");
      }
      const fs::path a(c->other), b(j.input);
      if (same_file(c->other, j.input)) {
        // Found by hand: this was advised to rename one of "them".
        throw InvalidArgument(j.input + ": given twice" +
                              (c->other == j.input ? "" : " (also as " + c->other + ")") +
                              "; give each input once");
      }
      const char* why = a.filename() == b.filename()
                            ? "they have the same name (from different folders): rename one of "
                              "them, or upscale them into different folders"
                        : a.stem() == b.stem()
                            ? "their names differ only in the extension: rename one of them, or "
                              "upscale them into different folders"
                            : "use {name} in --name";
      throw InvalidArgument(j.output + ": both " + c->other + " and " + j.input +
                            " would be written there; " + why);
    }
    if (const auto problem = output_path_problem(j.output)) j.problem = *problem;
  }
  return with_unused_options(request, std::move(list), folders);
}

}  // namespace fdiwn::cli
