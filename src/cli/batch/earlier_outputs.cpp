#include "cli/batch/earlier_outputs.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <system_error>

#include "cli/batch/output_guard.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/image_probe.hpp"

namespace fdiwn::cli {

namespace {

namespace fs = std::filesystem;

// The size of the image in `path` as its header stores it; nullopt if that
// cannot be read. The header first, then (a JPEG whose metadata runs past
// the first 256 KiB) the whole file: only files named as an output pay.
std::optional<cv::Size> stored_size(const fs::path& path) {
  const auto read_at = [&path](uint64_t offset, size_t n) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(offset));
    std::vector<unsigned char> bytes(n);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(n));
    bytes.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
    return bytes;
  };
  std::error_code ec;
  const uintmax_t file_size = fs::file_size(path, ec);
  if (ec) return std::nullopt;
  try {
    const std::vector<unsigned char> head = read_at(0, size_t{1} << 18);
    auto probe = probe_header(head.data(), head.size(), file_size, read_at, path.string());
    constexpr uintmax_t kMostRead = uintmax_t{64} << 20;
    if (!probe && file_size <= kMostRead) {
      probe = probe_image(read_at(0, static_cast<size_t>(file_size)), path.string());
    }
    if (!probe) return std::nullopt;
    return cv::Size(probe->width, probe->height);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// True if `file` is what an earlier run wrote for `job`: its output by name,
// in the output's folder itself (not reached through a link), with the size
// that output has. The name alone is no evidence (found by hand: with -f
// webp, a user's own a.webp beside a.png was taken for a.png's result, left
// out, then replaced). The input may be shown turned (EXIF, HEIF's irot),
// which its header does not always say: either way round counts.
bool is_earlier_output(const fs::path& file, const Job& job, const JobRequest& request) {
  const fs::path out(job.output);
  std::error_code ec;
  if (file.filename() != out.filename() ||
      file_identity(file.parent_path().string()) != file_identity(out.parent_path().string()) ||
      fs::is_symlink(file, ec)) {
    return false;
  }
  const auto input = stored_size(job.input), found = stored_size(file);
  if (!input || !found) return false;
  for (const cv::Size shown : {*input, cv::Size(input->height, input->width)}) {
    try {
      if (plan_size(request.size, shown, request.scale, job.input).target == *found) return true;
    } catch (const ImageError&) {
    }
  }
  return false;
}

}  // namespace

void drop_earlier_outputs(std::vector<Job>& jobs, const std::vector<bool>& from_folder,
                          const JobRequest& request, std::vector<std::string>& skipped) {
  std::map<std::string, std::size_t> output_of;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    // A file whose own output is itself claims nothing (found in review: a
    // .jpg sorted before its .png kept the name, and a re-run with -f jpg
    // was refused).
    const std::string output = file_identity(jobs[i].output);
    if (output != file_identity(jobs[i].input)) output_of.emplace(output, i);
  }
  std::vector<Job> kept;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const auto it = output_of.find(file_identity(jobs[i].input));
    if (from_folder[i] && it != output_of.end() && it->second != i &&
        is_earlier_output(jobs[i].input, jobs[it->second], request)) {
      skipped.push_back(jobs[i].input + ": is the output of " + jobs[it->second].input +
                        "; skipped");
      continue;
    }
    kept.push_back(jobs[i]);
  }
  jobs = std::move(kept);
}

}  // namespace fdiwn::cli
