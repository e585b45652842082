#include "cli/batch/folder_scan.hpp"

#include <limits.h>

#include <algorithm>
#include <cctype>
#include <system_error>

#include "cli/batch/output_guard.hpp"
#include "fdiwn/files.hpp"
#include "fdiwn/image_io.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;

namespace {

bool is_hidden(const fs::path& p) {
  const std::string n = p.filename().string();
  return !n.empty() && n[0] == '.';
}

// Lists a folder (and, if asked, its sub-folders: by hand, so that each one
// that cannot be listed is reported rather than silently skipped). Symbolic
// links to folders are not followed (no loops); entries that are not regular
// files are reported with the reason.
class FolderScan {
 public:
  FolderScan(const fs::path& root, bool recursive, const fs::path& skip_dir, JobList& list,
             std::vector<Found>& found)
      : root_(root), recursive_(recursive), skip_dir_(skip_dir), list_(list), found_(found) {}

  void run() {
    std::vector<fs::path> folders{root_};
    while (!folders.empty()) {
      const fs::path dir = folders.back();
      folders.pop_back();
      std::vector<fs::path> entries;
      std::error_code ec;
      for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
           it.increment(ec)) {
        entries.push_back(it->path());
      }
      if (ec) {
        unreadable(dir, "cannot list the folder: " + ec.message() +
                            "; the images in it were not upscaled");
        continue;
      }
      std::sort(entries.begin(), entries.end());
      std::vector<fs::path> subfolders;
      for (const auto& p : entries) visit(p, subfolders);
      // Depth first, in name order.
      folders.insert(folders.end(), subfolders.rbegin(), subfolders.rend());
    }
    std::sort(found_.begin() + static_cast<std::ptrdiff_t>(first_), found_.end(),
              [](const Found& a, const Found& b) { return a.file < b.file; });
  }

 private:
  // Found by hand: a folder that could not be listed (or whose entries could
  // not be looked at) lost its images with a warning and exit 0.
  void unreadable(const fs::path& p, const std::string& why) {
    list_.unreadable.push_back({p.string(), "", p.lexically_relative(root_).string(), why, ""});
  }

  void skip(const fs::path& p, const std::string& why) {
    list_.skipped.push_back(p.string() + ": " + why + "; skipped");
  }

  void visit(const fs::path& p, std::vector<fs::path>& subfolders) {
    if (is_hidden(p)) {  // hidden files, our temporary files included
      // Named, so that an image hidden by its name is not lost without a word.
      std::error_code ec;
      if (is_readable_extension(extension_of(p)) && fs::is_regular_file(p, ec)) {
        list_.hidden.push_back(p.string());
      }
      return;
    }
    if (p.string().size() >= PATH_MAX) {
      skip(p, "the path is longer than " + std::to_string(PATH_MAX - 1) + " bytes");
      return;
    }
    std::error_code ec;
    const bool link = fs::is_symlink(fs::symlink_status(p, ec));
    const PathInfo info = inspect_path(p.string());
    switch (info.kind) {
      case PathKind::Directory:
        if (!recursive_) {
          if (is_readable_extension(extension_of(p))) {
            skip(p, "is a folder (-r descends into it)");
          } else if (!link && fs::path(file_identity(p.string())) != skip_dir_) {  // as -r would
            list_.not_descended.push_back(p.string());
          }
          return;
        }
        if (link) {
          skip(p, "is a symbolic link to a folder, which is not followed");
        } else if (fs::path(file_identity(p.string())) != skip_dir_) {
          // The output folder inside the input folder is left out: its files
          // would otherwise be upscaled again on a re-run.
          subfolders.push_back(p);
        }
        return;
      case PathKind::Regular:
        if (!is_readable_extension(extension_of(p))) {
          list_.ignored.push_back(p.string());
        } else {
          found_.push_back({p, p.lexically_relative(root_), true});
        }
        return;
      case PathKind::Missing:
        return;  // removed while we looked
      case PathKind::Unusable:
        // Not a loop, a dangling link or a path too long, but a look that
        // failed (no permission to search the folder, an I/O error).
        if (look_failed(info)) {
          unreadable(p, "cannot tell what it is: " + info.reason +
                            "; if it is an image, it was not upscaled");
          return;
        }
        [[fallthrough]];
      case PathKind::Stream:
        skip(p, info.reason + (info.reason.rfind("is ", 0) == 0 ? ", not a regular file" : ""));
        return;
    }
  }

  fs::path root_;
  bool recursive_;
  fs::path skip_dir_;
  JobList& list_;
  std::vector<Found>& found_;
  std::size_t first_ = found_.size();
};

}  // namespace

std::string extension_of(const fs::path& p) {
  std::string e = p.extension().string();
  if (!e.empty()) e.erase(0, 1);
  std::transform(e.begin(), e.end(), e.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e;
}

void scan_folder(const fs::path& root, bool recursive, const fs::path& skip_dir, JobList& list,
                 std::vector<Found>& found) {
  FolderScan(root, recursive, skip_dir, list, found).run();
}

}  // namespace fdiwn::cli
