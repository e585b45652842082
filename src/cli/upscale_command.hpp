// `fdiwn upscale`: options and the command.
#pragma once

#include <string>

#include <CLI/App.hpp>

#include "fdiwn/upscaler.hpp"

namespace fdiwn::cli {

struct UpscaleArgs {
  std::string input;
  std::string output;
  int scale = 4;
  std::string mode = "whole";
  bool tta = false;
  std::string weights;
  int threads = 0;
};

/// Adds the `upscale` subcommand to `app`, storing its values in `args`.
CLI::App* add_upscale_command(CLI::App& app, UpscaleArgs& args);

/// Runs the command; returns the process exit code. Throws fdiwn::Error
/// subclasses for the caller to map to exit codes.
int run_upscale(const UpscaleArgs& args);

}  // namespace fdiwn::cli
