#include "cli/report/json_report.hpp"

#include <nlohmann/json.hpp>

#include "fdiwn/version.hpp"

namespace fdiwn::cli {

namespace {
nlohmann::json size_json(cv::Size s) {
  if (s.empty()) return nullptr;
  return {{"width", s.width}, {"height", s.height}};
}
}  // namespace

std::string json_report(const RunInfo& run, const std::vector<FileResult>& results) {
  nlohmann::json files = nlohmann::json::array();
  int counts[4] = {0, 0, 0, 0};
  for (const auto& r : results) {
    ++counts[static_cast<int>(r.status)];
    nlohmann::json f = {
        {"input", r.job.input},
        // (null: a folder that could not be listed has no output)
        {"output", r.job.output.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.job.output)},
        {"status", to_string(r.status)},
        {"input_size", size_json(r.input_size)},
        {"output_size", size_json(r.output_size)},
        {"channels", r.channels ? nlohmann::json(r.channels) : nlohmann::json(nullptr)},
        {"bit_depth", r.bit_depth ? nlohmann::json(r.bit_depth) : nlohmann::json(nullptr)},
        {"seconds",
         r.status == FileStatus::Done ? nlohmann::json(r.seconds) : nlohmann::json(nullptr)},
        {"threads",
         r.status == FileStatus::Done ? nlohmann::json(r.threads) : nlohmann::json(nullptr)},
        {"network_passes",
         r.status == FileStatus::Done ? nlohmann::json(r.passes) : nlohmann::json(nullptr)},
        {"resized", r.status == FileStatus::Done && r.resized},
        {"error", r.status == FileStatus::Done ? nlohmann::json(nullptr) : nlohmann::json(r.error)},
        {"notes", r.notes},
    };
    files.push_back(std::move(f));
  }
  const nlohmann::json doc = {
      {"fdiwn", FDIWN_VERSION_STRING},
      {"scale", run.scale},
      {"mode", run.mode},
      {"tta", run.tta},
      {"shard", run.shard},
      {"files", std::move(files)},
      {"done", counts[0]},
      {"skipped", counts[1]},
      {"failed", counts[2]},
      {"cancelled", counts[3]},
      {"seconds", run.seconds},
      {"interrupted", run.interrupted},
      {"exit_code", run.exit_code},
      {"error", run.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.error)},
  };
  // File names need not be valid UTF-8 on Linux; replace what is not.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace fdiwn::cli
