#include "cli/commands/info_command.hpp"

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands/values.hpp"
#include "cli/process/exit_codes.hpp"
#include "fdiwn/environment.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/image_io.hpp"
#include "fdiwn/metadata.hpp"
#include "fdiwn/upscaler.hpp"
#include "fdiwn/version.hpp"

namespace fdiwn::cli {

namespace {

// 629176 -> "629,176".
std::string grouped(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

struct WeightsReport {
  int scale;
  std::string path;
  bool ok = false;
  std::string error;
  int64_t parameters = 0;
  int64_t macs = 0;
};

}  // namespace

CLI::App* add_info_command(CLI::App& app, InfoArgs& args) {
  auto* cmd = app.add_subcommand(
      "info", "Versions, threads, memory, the weights found and the image formats");
  cmd->add_flag("--json", args.json, "Print the report as JSON");
  return cmd;
}

int run_info(const InfoArgs& args) {
  std::vector<WeightsReport> weights;
  bool all_ok = true;
  for (int scale : {2, 3, 4}) {
    WeightsReport w;
    w.scale = scale;
    w.path = default_weights_path(scale);
    try {
      UpscalerOptions options;
      options.scale = scale;
      const Upscaler up(options);
      w.ok = true;
      w.parameters = up.parameter_count();
      w.macs = up.macs_per_pixel();
    } catch (const Error& e) {
      w.error = e.what();
      all_ok = false;
    }
    weights.push_back(w);
  }
  const ThreadDefault thread_source = thread_default();
  const int threads = thread_source.count;
  const std::size_t budget = default_memory_budget();
  const std::vector<ImageFormatSupport> formats = image_formats();

  if (args.json) {
    nlohmann::json doc = {
        {"fdiwn", FDIWN_VERSION_STRING},
        {"libtorch", torch_version()},
        {"opencv", opencv_version()},
        {"threads", threads},
        {"threads_from", thread_source.from_environment ? "OMP_NUM_THREADS" : "cores"},
        {"memory_budget_bytes", budget},
        {"weights", nlohmann::json::array()}};
    for (const auto& w : weights) {
      nlohmann::json j = {{"scale", w.scale}, {"path", w.path}, {"ok", w.ok}};
      if (w.ok) {
        j["parameters"] = w.parameters;
        j["macs_per_lr_pixel"] = w.macs;
      } else {
        j["error"] = w.error;
      }
      doc["weights"].push_back(j);
    }
    doc["metadata"] = metadata_library();
    doc["formats"] = nlohmann::json::array();
    for (const auto& f : formats) {
      doc["formats"].push_back({{"name", f.name},
                                {"read", f.read_extensions},
                                {"write", f.write_extensions},
                                {"library", f.library}});
    }
    std::printf("%s\n", doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("fdiwn %s (LibTorch %s, OpenCV %s)\n", FDIWN_VERSION_STRING,
                torch_version().c_str(), opencv_version().c_str());
    // Found by hand: this said "all the cores" when OMP_NUM_THREADS chose.
    if (thread_source.from_environment) {
      std::printf("threads: %d (OMP_NUM_THREADS; -j to change)\n", threads);
    } else {
      std::printf(
          "threads: %d (all the cores this process may use; -j to change)%s\n", threads,
          thread_source.ignored.empty()
              ? ""
              : ("; OMP_NUM_THREADS='" + thread_source.ignored + "' is not a count from 1 to " +
                 std::to_string(most_threads()) + ", so it is not used")
                    .c_str());
    }
    std::printf("memory budget: %s (half of what is available; --max-memory to change)\n",
                format_bytes(budget).c_str());
    std::printf("weights:\n");
    for (const auto& w : weights) {
      if (w.ok) {
        std::printf("  x%d  %s\n      %s parameters, %s multiply-adds per LR pixel\n", w.scale,
                    w.path.c_str(), grouped(w.parameters).c_str(), grouped(w.macs).c_str());
      } else {
        std::printf("  x%d  not usable: %s\n", w.scale, w.error.c_str());
      }
    }
    std::printf("metadata (EXIF, ICC, XMP, IPTC): %s\n", metadata_library().c_str());
    std::printf("image formats (extensions read / written; library):\n");
    for (const auto& f : formats) {
      std::printf("  %-12s %s / %s; %s\n", f.name.c_str(), f.read_extensions.c_str(),
                  f.write_extensions.empty() ? "-" : f.write_extensions.c_str(), f.library.c_str());
    }
  }
  return all_ok ? kExitOk : kExitWeights;
}

}  // namespace fdiwn::cli
