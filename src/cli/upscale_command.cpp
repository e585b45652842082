#include "upscale_command.hpp"

#include <chrono>
#include <filesystem>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "exit_codes.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/image_io.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;

CLI::App* add_upscale_command(CLI::App& app, UpscaleArgs& args) {
  auto* cmd = app.add_subcommand("upscale", "Upscale an image x2, x3 or x4");
  cmd->add_option("-i,--input", args.input, "Input image")->required();
  cmd->add_option("-o,--output", args.output, "Output image (format from its extension)")
      ->required();
  cmd->add_option("-s,--scale", args.scale, "Upscaling factor")
      ->check(CLI::IsMember({2, 3, 4}))
      ->capture_default_str();
  cmd->add_option("-m,--mode", args.mode,
                  "whole: the image in one pass; chop: the authors' overlapping quadrants "
                  "(reproduces the paper's evaluation)")
      ->check(CLI::IsMember({"whole", "chop"}))
      ->capture_default_str();
  cmd->add_flag("-x,--tta", args.tta, "Self-ensemble: average the 8 flips/transposes (8x slower)");
  cmd->add_option("-w,--weights", args.weights,
                  "Weights file (default: the bundled FDIWNx<scale>.pt)");
  cmd->add_option("--threads", args.threads, "Threads (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->footer(kExitCodeHelp);
  return cmd;
}

int run_upscale(const UpscaleArgs& args) {
  // Cheap checks first: a typo should not wait for the weights to load.
  std::error_code ec;
  if (!fs::exists(args.input, ec)) throw InvalidArgument(args.input + ": no such file");
  if (fs::exists(args.output, ec) && fs::equivalent(args.input, args.output, ec)) {
    throw InvalidArgument(args.output + ": the output is the input file; refusing to overwrite it");
  }

  UpscalerOptions options;
  options.scale = args.scale;
  options.weights_path = args.weights;
  options.threads = args.threads;
  options.mode = args.mode == "chop" ? Mode::Chop : Mode::Whole;
  options.tta = args.tta;
  Upscaler upscaler(options);
  spdlog::debug("weights: {} (x{}, {} parameters)", upscaler.weights_path(), upscaler.scale(),
                upscaler.parameter_count());

  const auto start = std::chrono::steady_clock::now();
  const cv::Mat image = read_image_bgr8(args.input);
  const cv::Mat result = upscaler.upscale(image);
  write_image_atomic(args.output, result);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("{} ({}x{}) -> {} ({}x{}), x{} {}{}, {:.2f} s", args.input, image.cols, image.rows,
               args.output, result.cols, result.rows, args.scale, args.mode,
               args.tta ? " +tta" : "", seconds);
  return kExitOk;
}

}  // namespace fdiwn::cli
