#include "bench_command.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <opencv2/core.hpp>

#include "exit_codes.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/image_io.hpp"
#include "fdiwn/matlab_resize.hpp"
#include "fdiwn/metrics.hpp"
#include "fdiwn/upscaler.hpp"
#include "pairing.hpp"
#include "score_report.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;

namespace {

void add_scoring_options(CLI::App* cmd, ScoringArgs& args) {
  cmd->add_option("--crop-border", args.crop_border,
                  "Pixels shaved from each border before scoring (default: the scale)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--rgb", args.rgb, "Score all RGB channels instead of Y (BasicSR's --rgb)");
  cmd->add_option("--csv", args.csv, "Also write the scores to this CSV file");
  cmd->add_option("--json", args.json, "Also write the scores to this JSON file");
}

ScoreSet new_set(int scale, const ScoringArgs& scoring) {
  ScoreSet set;
  set.scale = scale;
  set.y_channel = !scoring.rgb;
  set.crop_border = scoring.crop_border >= 0 ? scoring.crop_border : scale;
  return set;
}

void write_text(const std::string& path, const std::string& text) {
  write_file_atomic(path, std::vector<unsigned char>(text.begin(), text.end()));
}

// Writes --csv/--json; returns the exit code for the run.
int finish(const std::vector<ScoreSet>& sets, const ScoringArgs& scoring) {
  if (!scoring.csv.empty()) write_text(scoring.csv, to_csv(sets));
  if (!scoring.json.empty()) {
    write_text(scoring.json,
               to_json(sets).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  for (const auto& set : sets) {
    for (const auto& r : set.images) {
      if (!r.error.empty()) return kExitFailed;
    }
  }
  return kExitOk;
}

// The message of a per-image failure, naming the file if it does not yet.
std::string describe(const std::exception& e, const ImagePair& pair) {
  const std::string msg = e.what();
  const std::string& file = pair.other.empty() ? pair.hr : pair.other;
  if (msg.find(pair.hr) != std::string::npos ||
      (!pair.other.empty() && msg.find(pair.other) != std::string::npos)) {
    return msg;
  }
  return file + ": " + msg;
}

}  // namespace

CLI::App* add_bench_command(CLI::App& app, BenchArgs& args) {
  auto* cmd = app.add_subcommand(
      "bench", "PSNR/SSIM and speed of FDIWN on a test set, in the paper's (Matlab) protocol");
  cmd->add_option("--hr", args.hr,
                  "Folder of HR images ('{scale}' in the path is replaced per scale)");
  cmd->add_option("--lr", args.lr,
                  "Folder of LR images, paired by name; default: made from HR with Matlab's "
                  "bicubic ('{scale}' is replaced per scale)");
  cmd->add_option("-s,--scale", args.scales, "Scales to run (several allowed: -s 2 -s 3 -s 4)")
      ->check(CLI::IsMember({2, 3, 4}));
  cmd->add_option("-m,--mode", args.mode,
                  "chop: the authors' evaluation (reproduces the paper); whole: one pass")
      ->check(CLI::IsMember({"chop", "whole"}))
      ->capture_default_str();
  cmd->add_flag("-x,--tta", args.tta, "Self-ensemble (8 passes)");
  cmd->add_option("-j,--threads", args.threads, "Threads (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--save-sr", args.save_sr,
                  "Keep the SR images in this folder (x<scale>/ inside)");
  add_scoring_options(cmd, args.scoring);
  // Speed mode.
  cmd->add_flag("--speed", args.speed,
                "Instead of scoring: time the optimised and plain paths on synthetic images "
                "(each case in its own process, with its peak memory)");
  cmd->add_option("--sizes", args.speed_args.sizes, "--speed: LR sizes")->capture_default_str();
  cmd->add_option("--paths", args.speed_args.paths, "--speed: paths to time")
      ->capture_default_str();
  cmd->add_option("--repeat", args.speed_args.repeat,
                  "--speed: timed passes per case after one untimed pass at that size (0: report "
                  "the first pass)")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  cmd->add_option("--speed-case", args.speed_args.child_case)->group("");  // internal
  return cmd;
}

CLI::App* add_metrics_command(CLI::App& app, MetricsArgs& args) {
  auto* cmd = app.add_subcommand(
      "metrics", "PSNR/SSIM of SR images made by any method, in the paper's protocol");
  cmd->add_option("--hr", args.hr, "Folder of HR images")->required();
  cmd->add_option("--sr", args.sr, "Folder of SR images, paired by name")->required();
  cmd->add_option("-s,--scale", args.scale, "Their scale (HR is mod-cropped by it)")
      ->check(CLI::IsMember({2, 3, 4}))
      ->required();
  add_scoring_options(cmd, args.scoring);
  return cmd;
}

int run_bench(const BenchArgs& args) {
  if (args.speed || !args.speed_args.child_case.empty()) {
    SpeedArgs speed = args.speed_args;
    speed.scales = args.scales;
    speed.threads = args.threads;
    speed.json = args.scoring.json;
    return run_speed(speed);
  }
  if (args.hr.empty()) throw InvalidArgument("bench: --hr is required (or --speed)");
  if (args.scales.empty()) throw InvalidArgument("bench: give at least one scale (-s)");
  std::vector<ScoreSet> sets;
  for (const int scale : args.scales) {
    const std::string hr_dir = with_scale(args.hr, scale);
    const std::string lr_dir = args.lr.empty() ? "" : with_scale(args.lr, scale);
    std::vector<std::string> unmatched;
    const auto pairs = pair_images(hr_dir, lr_dir, &unmatched);
    for (const auto& u : unmatched) spdlog::warn("{}: no HR image pairs with it; left out", u);

    UpscalerOptions options;
    options.scale = scale;
    options.threads = args.threads;
    options.tta = args.tta;
    const Mode mode = args.mode == "whole" ? Mode::Whole : Mode::Chop;
    const Upscaler upscaler(options);  // loaded once per scale

    ScoreSet set = new_set(scale, args.scoring);
    set.mode = args.mode;
    set.tta = args.tta;
    print_header(stdout, set, "FDIWN on " + hr_dir + (lr_dir.empty() ? " (LR made by fdiwn)" : ""));
    const std::string save_dir =
        args.save_sr.empty() ? ""
                             : (fs::path(args.save_sr) / ("x" + std::to_string(scale))).string();
    if (!save_dir.empty()) fs::create_directories(save_dir);

    for (const auto& pair : pairs) {
      ImageScore r;
      r.name = pair.name;
      r.hr = pair.hr;
      r.other = pair.other;
      try {
        const cv::Mat hr = mod_crop(read_image_bgr8(pair.hr), scale).clone();
        const cv::Mat lr =
            pair.other.empty() ? matlab_imresize(hr, 1.0 / scale) : read_image_bgr8(pair.other);
        r.lr_size = lr.size();
        if (lr.cols * scale != hr.cols || lr.rows * scale != hr.rows) {
          throw ImageError(pair.other, "LR is " + std::to_string(lr.cols) + "x" +
                                           std::to_string(lr.rows) + ", but x" +
                                           std::to_string(scale) + " of it is not the HR's " +
                                           std::to_string(hr.cols) + "x" + std::to_string(hr.rows) +
                                           " (mod-cropped)");
        }
        // Timed: the network only, decoding and scoring excluded.
        const auto start = std::chrono::steady_clock::now();
        const cv::Mat sr = upscaler.upscale(lr, mode);
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const Score s = score(sr, hr, ScoreOptions{set.crop_border, set.y_channel});
        r.psnr = s.psnr;
        r.ssim = s.ssim;
        if (!save_dir.empty()) {
          write_image_atomic((fs::path(save_dir) / (pair.name + ".png")).string(), sr);
        }
      } catch (const Error& e) {
        r.error = describe(e, pair);
        spdlog::error("{}", r.error);
      }
      print_row(stdout, r);
      set.images.push_back(std::move(r));
    }
    print_mean(stdout, set);
    sets.push_back(std::move(set));
  }
  return finish(sets, args.scoring);
}

int run_metrics(const MetricsArgs& args) {
  std::vector<std::string> unmatched;
  const auto pairs = pair_images(args.hr, args.sr, &unmatched);
  for (const auto& u : unmatched) spdlog::warn("{}: no HR image pairs with it; left out", u);
  ScoreSet set = new_set(args.scale, args.scoring);
  print_header(stdout, set, "Scores of " + args.sr + " against " + args.hr);
  for (const auto& pair : pairs) {
    ImageScore r;
    r.name = pair.name;
    r.hr = pair.hr;
    r.other = pair.other;
    try {
      const cv::Mat hr = mod_crop(read_image_bgr8(pair.hr), args.scale).clone();
      const cv::Mat sr = read_image_bgr8(pair.other);
      r.lr_size = cv::Size(hr.cols / args.scale, hr.rows / args.scale);
      const Score s = score(sr, hr, ScoreOptions{set.crop_border, set.y_channel});
      r.psnr = s.psnr;
      r.ssim = s.ssim;
    } catch (const Error& e) {
      r.error = describe(e, pair);
      spdlog::error("{}", r.error);
    }
    print_row(stdout, r);
    set.images.push_back(std::move(r));
  }
  print_mean(stdout, set);
  return finish({set}, args.scoring);
}

}  // namespace fdiwn::cli
