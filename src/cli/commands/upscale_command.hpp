// `fdiwn upscale`: one image, several, or folders of them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/App.hpp>

#include "fdiwn/options.hpp"

namespace fdiwn::cli {

class StatusLineSink;

struct UpscaleArgs {
  std::vector<std::string> inputs;
  std::string output;
  int scale = 4;
  double outscale = 0;  ///< --outscale (0: none)
  int width = 0;        ///< --width (0: none)
  int height = 0;       ///< --height
  bool recursive = false;
  std::string format;
  int quality = 0;           ///< --quality (0: not given, WriteOptions' default)
  std::string name_pattern;  ///< empty: not given ({name}.{ext})
  Mode mode = Mode::Auto;
  bool tta = false;
  AlphaMode alpha = AlphaMode::Network;
  Path path = Path::Engine;
  std::string weights;
  int threads = 0;
  std::string side_by_side = "auto";  ///< auto or off
  std::string metadata = "keep";      ///< keep or strip
  std::string max_memory;
  std::string max_pixels = "100M";
  bool overwrite = false;
  bool json = false;
  std::string shard;        ///< "K/N" or "slurm" (sharding.hpp)
  bool frames = false;      ///< --frames: standard input is a stream of PNM frames
  int64_t frame_count = 0;  ///< --frame-count: how many (for the time left), 0 unknown
};

/// Adds the `upscale` subcommand to `app`, storing its values in `args`.
CLI::App* add_upscale_command(CLI::App& app, UpscaleArgs& args);

/// Runs the command and returns the exit code. Usage errors and weights
/// errors are thrown (fdiwn::InvalidArgument, fdiwn::WeightsError) for main
/// to map; per-file failures are reported and counted.
int run_upscale(const UpscaleArgs& args, StatusLineSink* status_line);

/// The --json document of a run that could not start: `error` and the exit
/// code, no files (also for a usage error found while parsing, with `args`
/// as far as they were read).
void write_error_json(const UpscaleArgs& args, int exit_code, const std::string& error);

}  // namespace fdiwn::cli
