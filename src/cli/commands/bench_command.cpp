#include "cli/commands/bench_command.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <opencv2/core.hpp>

#include "cli/batch/output_guard.hpp"
#include "cli/batch/sharding.hpp"
#include "cli/commands/bench_merge.hpp"
#include "cli/commands/values.hpp"
#include "cli/process/decoder_limits.hpp"
#include "cli/process/signals.hpp"
#include "cli/scoring/pairing.hpp"
#include "cli/scoring/score_report.hpp"
#include "cli/scoring/scoring.hpp"
#include "fdiwn/environment.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/image_io.hpp"
#include "fdiwn/matlab_resize.hpp"
#include "fdiwn/metrics.hpp"
#include "fdiwn/upscaler.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;

namespace {

void add_scoring_options(CLI::App* cmd, ScoringArgs& args) {
  cmd->add_option("--crop-border", args.crop_border,
                  "Pixels shaved from each border before scoring (default: the scale)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--rgb", args.rgb, "Score all RGB channels instead of Y (BasicSR's --rgb)");
  cmd->add_option("--max-pixels", args.max_pixels,
                  "Refuse images larger than this, from their header: 100M, 1e8, 10000x10000")
      ->capture_default_str();
  cmd->add_option("--csv", args.csv, "Also write the scores to this CSV file");
  cmd->add_option("--json", args.json, "Also write the scores to this JSON file");
}

// Where --save-sr keeps the SR image of `pair`.
std::string sr_path(const std::string& save_dir, const ImagePair& pair) {
  return (fs::path(save_dir) / (pair.name + ".png")).string();
}

// Creates a folder an option names; a usage error if it cannot be one.
void make_folder(const std::string& dir, const std::string& option) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw InvalidArgument(option + " " + dir + ": is a file, not a folder");
  }
  fs::create_directories(dir, ec);
  if (ec) throw InvalidArgument(option + " " + dir + ": cannot create the folder: " + ec.message());
}

ScoringRun scoring_run(const ScoringArgs& args) {
  ScoringRun run;
  run.read.max_pixels = parse_pixel_count(args.max_pixels);
  cap_decoded_pixels(run.read.max_pixels);
  run.read.file.max_bytes = default_memory_budget() / 2;
  run.read.file.max_bytes_reason = "half the memory available";
  run.read.file.stop = stop_requested;
  run.stop = stop_requested;
  return run;
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
  static constexpr Mode kBenchModes[] = {Mode::Chop, Mode::Whole};
  add_choice(cmd, "-m,--mode", args.mode,
             "chop: the authors' evaluation (reproduces the paper); whole: one pass", kBenchModes,
             parse_mode);
  cmd->add_flag("-x,--tta", args.tta, "Self-ensemble (8 passes)");
  cmd->add_option("-j,--threads", args.threads, "Threads (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  add_choice(cmd, "--path", args.path, "engine, or plain: the module tree op by op", kPaths,
             parse_path);
  cmd->add_option("--save-sr", args.save_sr,
                  "Keep the SR images in this folder (x<scale>/ inside)");
  add_scoring_options(cmd, args.scoring);
  // Speed mode.
  cmd->add_flag("--speed", args.speed,
                "Instead of scoring: time the engine and plain paths (and the engine on one "
                "thread) on synthetic images "
                "(each case in its own process, with its peak memory)");
  cmd->add_flag("--efficiency", args.speed_args.efficiency,
                "Instead of scoring: parameters, multiply-adds, activations, peak memory and "
                "runtime (mean and spread) of the network on --path, as papers and NTIRE "
                "report them");
  cmd->add_option("--sizes", args.speed_args.sizes,
                  std::string("--speed, --efficiency: LR sizes (default: ") + kSpeedSizes +
                      "; --efficiency: 256x256)");
  cmd->add_option("--paths", args.speed_args.paths, "--speed: paths to time")
      ->capture_default_str();
  cmd->add_option("--repeat", args.speed_args.repeat,
                  "--speed, --efficiency: timed passes per case after one untimed pass at that "
                  "size (0: report the first pass; default 1, --efficiency 10)")
      ->check(CLI::Range(0, 100));
  cmd->add_option("--speed-case", args.speed_args.child_case)->group("");  // internal
  // Sharding.
  cmd->add_option("--shard", args.shard,
                  "Score only shard K of N of the images (K/N, 0-based, or 'slurm'); write "
                  "each shard's --json and combine them with --merge");
  cmd->add_option("--merge", args.merge,
                  "Instead of running: combine the --json results of shards into the set's table")
      ->expected(1, -1);
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
  if (args.speed && args.speed_args.efficiency) {
    throw InvalidArgument("bench: --speed and --efficiency are two reports: give one");
  }
  if (args.speed || args.speed_args.efficiency || !args.speed_args.child_case.empty()) {
    SpeedArgs speed = args.speed_args;
    speed.scales = args.scales;
    speed.threads = args.threads;
    speed.path = args.path;
    speed.json = args.scoring.json;
    return run_speed(speed);
  }
  if (!args.merge.empty()) return run_merge(args.merge, args.scoring);
  if (args.hr.empty()) {
    throw InvalidArgument("bench: --hr is required (or --speed, --efficiency, --merge)");
  }
  const Shard shard = parse_shard(args.shard);
  if (args.scales.empty()) throw InvalidArgument("bench: give at least one scale (-s)");

  // Every image of every scale is paired, and every output path checked
  // against them, before any work.
  struct ScaleWork {
    int scale;
    std::string hr_dir, lr_dir, save_dir;
    std::vector<ImagePair> pairs;
  };
  std::vector<ScaleWork> work;
  OutputGuard guard;
  for (const int scale : args.scales) {
    ScaleWork w{scale,
                with_scale(args.hr, scale),
                args.lr.empty() ? "" : with_scale(args.lr, scale),
                "",
                {}};
    std::vector<std::string> unmatched;
    w.pairs = pair_images(w.hr_dir, w.lr_dir, &unmatched);
    for (const auto& u : unmatched) spdlog::warn("{}: no HR image pairs with it; left out", u);
    if (!shard.all()) {
      const size_t total = keep_shard(
          w.pairs, shard, [](const ImagePair& p) -> const std::string& { return p.name; });
      spdlog::info("x{} shard {}: {} of {} images", scale, shard.text(), w.pairs.size(), total);
    }
    for (const auto& p : w.pairs) {
      guard.add_input(p.hr);
      if (!p.other.empty()) guard.add_input(p.other);
    }
    if (!args.save_sr.empty()) {
      w.save_dir = (fs::path(args.save_sr) / ("x" + std::to_string(scale))).string();
    }
    work.push_back(std::move(w));
  }
  for (const auto& w : work) {
    for (const auto& p : w.pairs) {
      if (!w.save_dir.empty()) guard.claim_or_throw(sr_path(w.save_dir, p), "--save-sr");
    }
  }
  claim_score_files(guard, args.scoring);
  for (const auto& w : work) {
    if (!w.save_dir.empty()) make_folder(w.save_dir, "--save-sr");
  }

  const ScoringRun run = scoring_run(args.scoring);
  std::vector<ScoreSet> sets;
  for (const auto& w : work) {
    UpscalerOptions options;
    options.scale = w.scale;
    options.threads = args.threads;
    options.tta = args.tta;
    options.path = args.path;
    const Mode mode = args.mode;
    const Upscaler upscaler(options);  // loaded once per scale

    ScoreSet set = new_score_set(w.scale, args.scoring);
    set.mode = to_string(args.mode);
    set.tta = args.tta;
    print_header(stdout, set,
                 "FDIWN on " + w.hr_dir + (w.lr_dir.empty() ? " (LR made by fdiwn)" : ""));
    const auto make_sr = [&](const ImagePair& pair, const cv::Mat& hr, ImageScore& r) {
      const cv::Mat lr = pair.other.empty() ? matlab_imresize(hr, 1.0 / w.scale)
                                            : read_image_bgr8(pair.other, run.read);
      r.lr_size = lr.size();
      if (lr.cols * w.scale != hr.cols || lr.rows * w.scale != hr.rows) {
        throw ImageError(pair.other, "LR is " + std::to_string(lr.cols) + "x" +
                                         std::to_string(lr.rows) + ", but x" +
                                         std::to_string(w.scale) + " of it is not the HR's " +
                                         std::to_string(hr.cols) + "x" + std::to_string(hr.rows) +
                                         " (mod-cropped)");
      }
      // Timed: the network only, decoding and scoring excluded.
      const auto start = std::chrono::steady_clock::now();
      const cv::Mat sr = upscaler.upscale(lr, mode, [&run](double) {
        if (run.stop()) throw Cancelled();
      });
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      return sr;
    };
    KeepSr keep_sr;
    if (!w.save_dir.empty()) {
      keep_sr = [&](const ImagePair& pair, const cv::Mat& sr) {
        write_image(sr_path(w.save_dir, pair), sr);
      };
    }
    score_pairs(set, w.pairs, run, make_sr, keep_sr);
    print_mean(stdout, set);
    sets.push_back(std::move(set));
  }
  return write_score_files(sets, args.scoring, shard.all() ? "" : shard.text());
}

int run_metrics(const MetricsArgs& args) {
  std::vector<std::string> unmatched;
  const auto pairs = pair_images(args.hr, args.sr, &unmatched);
  for (const auto& u : unmatched) spdlog::warn("{}: no HR image pairs with it; left out", u);
  OutputGuard guard;
  for (const auto& p : pairs) {
    guard.add_input(p.hr);
    guard.add_input(p.other);
  }
  claim_score_files(guard, args.scoring);

  const ScoringRun run = scoring_run(args.scoring);
  ScoreSet set = new_score_set(args.scale, args.scoring);
  print_header(stdout, set, "Scores of " + args.sr + " against " + args.hr);
  score_pairs(set, pairs, run, [&](const ImagePair& pair, const cv::Mat& hr, ImageScore& r) {
    r.lr_size = cv::Size(hr.cols / args.scale, hr.rows / args.scale);
    return read_image_bgr8(pair.other, run.read);
  });
  print_mean(stdout, set);
  return write_score_files({set}, args.scoring);
}

}  // namespace fdiwn::cli
