#include "cli/commands/scoring_options.hpp"

#include <filesystem>
#include <iterator>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands/values.hpp"
#include "cli/process/decoder_limits.hpp"
#include "cli/process/signals.hpp"
#include "cli/report/table.hpp"
#include "fdiwn/environment.hpp"
#include "fdiwn/errors.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;

void add_scoring_options(CLI::App* cmd, ScoringArgs& args) {
  cmd->add_option("--crop-border", args.crop_border,
                  "Pixels shaved from each border before scoring (default: the scale)")
      ->check(non_negative_number());
  cmd->add_flag("--rgb", args.rgb, "Score all RGB channels instead of Y (BasicSR's --rgb)");
  cmd->add_option("--max-pixels", args.max_pixels,
                  "Refuse images larger than this, from their header: 100M, 1e8, 10000x10000")
      ->capture_default_str();
  cmd->add_option("--csv", args.csv, "Also write the scores to this CSV file");
  cmd->add_option("--json", args.json, "Also write the scores to this JSON file");
  cmd->add_option("--table", args.table,
                  "Summary table (row per scale and method, column per set, best marked) in "
                  "this format: text, md (Markdown) or latex; with md or latex stdout holds "
                  "the table alone (default: text, when more than one scale, set or method "
                  "was scored)")
      ->check(CLI::IsMember(
          std::vector<std::string>(std::begin(kTableFormatNames), std::end(kTableFormatNames))));
}

ScoringRun scoring_run(const ScoringArgs& args) {
  ScoringRun run;
  run.read.max_pixels = parse_pixel_count(args.max_pixels);
  cap_decoded_pixels(run.read.max_pixels);
  run.read.file.max_bytes = default_memory_budget() / 2;
  run.read.file.max_bytes_reason = "half the memory available";
  run.read.file.stop = stop_requested;
  run.stop = stop_requested;
  run.rows = rows_stream(args);
  return run;
}

void make_folder(const std::string& dir, const std::string& option) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw InvalidArgument(option + " " + dir + ": is a file, not a folder");
  }
  fs::create_directories(dir, ec);
  if (ec) throw InvalidArgument(option + " " + dir + ": cannot create the folder: " + ec.message());
}

}  // namespace fdiwn::cli
