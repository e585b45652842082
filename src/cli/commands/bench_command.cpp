#include "cli/commands/bench_command.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <opencv2/core.hpp>

#include "cli/batch/output_guard.hpp"
#include "cli/batch/sharding.hpp"
#include "cli/commands/bench_merge.hpp"
#include "cli/commands/scoring_options.hpp"
#include "cli/commands/values.hpp"
#include "cli/scoring/named_folders.hpp"
#include "cli/scoring/pairing.hpp"
#include "cli/scoring/score_report.hpp"
#include "cli/scoring/scoring.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/image_io.hpp"
#include "fdiwn/matlab_resize.hpp"
#include "fdiwn/upscaler.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;

namespace {

// An interpolation baseline: Matlab's imresize with one of its kernels.
struct Baseline {
  const char* option;  ///< --baseline's name
  const char* method;  ///< the table's
  ResizeKernel kernel;
};
constexpr Baseline kBaselines[] = {{"bicubic", "Bicubic", ResizeKernel::kBicubic},
                                   {"bilinear", "Bilinear", ResizeKernel::kBilinear},
                                   {"nearest", "Nearest", ResizeKernel::kNearest},
                                   {"lanczos", "Lanczos3", ResizeKernel::kLanczos3}};
constexpr const char* kNetwork = "FDIWN";

const Baseline& baseline_named(const std::string& name) {
  for (const auto& b : kBaselines) {
    if (name == b.option) return b;
  }
  throw InvalidArgument("--baseline: '" + name + "' is not bicubic, bilinear, nearest or lanczos");
}

// Where --save-sr keeps the SR image of `pair`.
std::string sr_path(const std::string& save_dir, const ImagePair& pair) {
  return (fs::path(save_dir) / (pair.name + ".png")).string();
}

// The LR image of `pair`: its file, or made from the mod-cropped HR image
// by Matlab's bicubic; a size that does not give the HR's is that file's
// error.
cv::Mat lr_of(const ImagePair& pair, const cv::Mat& hr, int scale, const std::string& lr_dir,
              const ScoringRun& run) {
  // As metrics does for a method's folder (found by hand: one missing LR
  // image refused the whole run, with nothing scored).
  if (!lr_dir.empty() && pair.other.empty()) {
    throw ImageError(pair.hr, "no image in " + lr_dir + " pairs with it");
  }
  const cv::Mat lr =
      pair.other.empty() ? matlab_imresize(hr, 1.0 / scale) : read_image_bgr8(pair.other, run.read);
  if (lr.cols * scale != hr.cols || lr.rows * scale != hr.rows) {
    throw ImageError(pair.other, "LR is " + std::to_string(lr.cols) + "x" +
                                     std::to_string(lr.rows) + ", but x" + std::to_string(scale) +
                                     " of it is not the HR's " + std::to_string(hr.cols) + "x" +
                                     std::to_string(hr.rows) + " (mod-cropped)");
  }
  return lr;
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
  one_value_each(cmd->add_option(
      "--set", args.sets,
      "A test set: NAME=HR_DIR (LR made by Matlab's bicubic) or NAME=HR_DIR:LR_DIR; "
      "several allowed, a column each ('{scale}' is replaced per scale)"));
  one_value_each(cmd->add_option("--baseline", args.baselines,
                                 "Also score an interpolation of the LR images, as Matlab's "
                                 "imresize makes it: bicubic, bilinear, nearest or lanczos "
                                 "(lanczos3); several allowed, a row each"),
                 ',')
      ->check(CLI::IsMember({"bicubic", "bilinear", "nearest", "lanczos"}));
  one_value_each(cmd->add_option("-s,--scale", args.scales,
                                 "Scales to run (several allowed: -s 2 -s 3 -s 4, or -s 2,3,4)"),
                 ',')
      ->check(CLI::IsMember({2, 3, 4}));
  static constexpr Mode kBenchModes[] = {Mode::Chop, Mode::Whole};
  add_choice(cmd, "-m,--mode", args.mode,
             "chop: the authors' evaluation (reproduces the paper); whole: one pass", kBenchModes,
             parse_mode);
  cmd->add_flag("-x,--tta", args.tta, "Self-ensemble (8 passes)");
  cmd->add_option("-j,--threads", args.threads, "Threads (0: all cores)")
      ->check(non_negative_number());
  add_choice(cmd, "--path", args.path, "engine, or plain: the module tree op by op", kPaths,
             parse_path);
  cmd->add_option("--save-sr", args.save_sr,
                  "Keep the SR images in this folder: x<scale>/ inside, in <set>/ with several "
                  "sets and <method>/ with --baseline");
  add_scoring_options(cmd, args.scoring);
  // Speed mode.
  cmd->add_flag("--speed", args.speed,
                "Instead of scoring: time the engine and plain paths (and the engine on one "
                "thread) on synthetic images "
                "(each case in its own process, with its peak memory; the engine's one-thread "
                "passes paired with its all-thread ones there)");
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

namespace {

// Options that do nothing in the mode asked for are refused, not ignored.
void check_modes(const BenchArgs& args) {
  const bool report = args.speed || args.speed_args.efficiency;
  if (args.speed && args.speed_args.efficiency) {
    throw InvalidArgument("bench: --speed and --efficiency are two reports: give one");
  }
  if (report && !args.merge.empty()) {
    throw InvalidArgument(
        "bench: --merge combines scores; it does not go with --speed or "
        "--efficiency");
  }
  if (args.speed && !args.scoring.table.empty()) {
    throw InvalidArgument("bench: --table formats scores and --efficiency, not --speed");
  }
  // The options each mode does not read (found by hand: --speed with --hr
  // and --csv timed synthetic images and wrote no CSV, and scoring with
  // --sizes scored at the images' sizes, without a word).
  static const std::vector<const char*> kScoring = {
      "--hr",  "--lr",         "--set",   "--baseline", "--save-sr", "--crop-border",
      "--rgb", "--max-pixels", "--shard", "--mode",     "--tta"};
  const auto refuse = [&](const std::string& why, std::vector<const char*> unused) {
    for (const std::string& option : args.given) {
      if (std::find(unused.begin(), unused.end(), option) != unused.end()) {
        throw InvalidArgument("bench" + why + "; " + option + " does not apply");
      }
    }
  };
  const auto with = [](std::vector<const char*> a, std::initializer_list<const char*> b) {
    a.insert(a.end(), b);
    return a;
  };
  if (!args.speed_args.child_case.empty()) return;  // (a case run by --speed itself)
  if (args.speed) {
    refuse(" --speed times synthetic images on the paths --paths names",
           with(kScoring, {"--path", "--csv"}));
  } else if (args.speed_args.efficiency) {
    refuse(" --efficiency measures the network on --path at --sizes",
           with(kScoring, {"--paths", "--csv"}));
  } else if (!args.merge.empty()) {
    // (It writes --csv, --json and --table; everything else was read when
    // the shards were scored.)
    refuse(": --merge combines results already scored",
           with(kScoring, {"--scale", "--sizes", "--paths", "--repeat", "--threads", "--path"}));
  } else {
    refuse(" scores test sets at their images' sizes (--speed and --efficiency time)",
           {"--sizes", "--paths", "--repeat"});
  }
}

}  // namespace

int run_bench(const BenchArgs& args) {
  check_modes(args);
  if (args.speed || args.speed_args.efficiency || !args.speed_args.child_case.empty()) {
    SpeedArgs speed = args.speed_args;
    speed.scales = args.scales;
    speed.threads = args.threads;
    speed.path = args.path;
    speed.json = args.scoring.json;
    speed.table = args.scoring.table;
    return run_speed(speed);
  }
  if (!args.merge.empty()) return run_merge(args.merge, args.scoring);
  std::vector<NamedFolder> sets;
  if (!args.hr.empty()) sets.push_back({folder_label(args.hr), args.hr, args.lr});
  if (args.hr.empty() && !args.lr.empty()) throw InvalidArgument("bench: --lr goes with --hr");
  for (const auto& s : args.sets) sets.push_back(parse_test_set(s));
  if (sets.empty()) {
    throw InvalidArgument("bench: give --hr or --set (or --speed, --efficiency, --merge)");
  }
  check_unique_names(sets, "--set");
  for (const auto& set : sets) {
    // One LR folder holds one scale's images: for several, each its own.
    if (args.scales.size() > 1 && !set.lr.empty() && set.lr.find("{scale}") == std::string::npos) {
      throw InvalidArgument("bench: LR folder " + set.lr + " (" + set.name +
                            "): with several scales, put {scale} in the folder");
    }
  }
  std::vector<const Baseline*> baselines;
  for (const auto& name : args.baselines) {
    const Baseline* b = &baseline_named(name);
    if (std::find(baselines.begin(), baselines.end(), b) == baselines.end()) baselines.push_back(b);
  }
  const Shard shard = parse_shard(args.shard);
  if (args.scales.empty()) throw InvalidArgument("bench: give at least one scale (-s)");

  // Every image of every scale and set is paired, and every output path
  // checked against them, before any work.
  struct SetWork {
    int scale;
    const NamedFolder* set;
    std::string hr_dir, lr_dir;
    std::vector<ImagePair> pairs;
  };
  std::vector<SetWork> work;
  OutputGuard guard;
  for (const int scale : args.scales) {
    for (const auto& set : sets) {
      SetWork w{scale,
                &set,
                with_set(with_scale(set.dir, scale), set.name),
                set.lr.empty() ? "" : with_set(with_scale(set.lr, scale), set.name),
                {}};
      std::vector<std::string> unmatched;
      w.pairs = pair_images(w.hr_dir, w.lr_dir, &unmatched);
      if (!w.lr_dir.empty() && std::none_of(w.pairs.begin(), w.pairs.end(),
                                            [](const ImagePair& p) { return !p.other.empty(); })) {
        // A wrong folder, not missing images (found in review: each image
        // failed, exit 1).
        throw InvalidArgument(w.lr_dir + ": no image in it pairs with one in " + w.hr_dir);
      }
      for (const auto& u : unmatched) spdlog::warn("{}: no HR image pairs with it; left out", u);
      if (!shard.all()) {
        const size_t total = keep_shard(
            w.pairs, shard, [](const ImagePair& p) -> const std::string& { return p.name; });
        spdlog::info("{} x{} shard {}: {} of {} images", set.name, scale, shard.text(),
                     w.pairs.size(), total);
      }
      for (const auto& p : w.pairs) {
        guard.add_input(p.hr);
        if (!p.other.empty()) guard.add_input(p.other);
      }
      work.push_back(std::move(w));
    }
  }
  // --save-sr's folder of one method on one set at one scale.
  const auto save_dir = [&](const SetWork& w, const std::string& method) {
    if (args.save_sr.empty()) return std::string();
    fs::path dir(args.save_sr);
    if (sets.size() > 1) dir /= w.set->name;
    if (!baselines.empty()) dir /= method;
    return (dir / ("x" + std::to_string(w.scale))).string();
  };
  // The rows of each set: the network (null), then the baselines.
  std::vector<const Baseline*> methods{nullptr};
  methods.insert(methods.end(), baselines.begin(), baselines.end());
  const auto method_name = [](const Baseline* b) { return std::string(b ? b->method : kNetwork); };
  for (const auto& w : work) {
    for (const auto* method : methods) {
      for (const auto& p : w.pairs) {
        if (!args.save_sr.empty())
          guard.claim_or_throw(sr_path(save_dir(w, method_name(method)), p), "--save-sr");
      }
    }
  }
  claim_score_files(guard, args.scoring);
  for (const auto& w : work) {
    for (const auto* method : methods) {
      if (!args.save_sr.empty()) make_folder(save_dir(w, method_name(method)), "--save-sr");
    }
  }

  const ScoringRun run = scoring_run(args.scoring);
  std::vector<ScoreSet> scored;
  std::unique_ptr<Upscaler> upscaler;  // loaded once per scale
  for (const auto& w : work) {
    if (!upscaler || upscaler->options().scale != w.scale) {
      UpscalerOptions options;
      options.scale = w.scale;
      options.threads = args.threads;
      options.tta = args.tta;
      options.path = args.path;
      upscaler.reset();
      upscaler = std::make_unique<Upscaler>(options);
    }
    for (const Baseline* baseline : methods) {
      const std::string method = method_name(baseline);
      ScoreSet set = new_score_set(w.scale, args.scoring);
      set.set_name = w.set->name;
      set.method = method;
      if (!baseline) {
        set.mode = to_string(args.mode);
        set.tta = args.tta;
      }
      print_header(run.rows, set,
                   method + " on " + w.set->name + " (" + w.hr_dir +
                       (w.lr_dir.empty() ? ", LR made by fdiwn" : ", LR " + w.lr_dir) + ")");
      const auto make_sr = [&](const ImagePair& pair, const cv::Mat& hr, ImageScore& r) {
        const cv::Mat lr = lr_of(pair, hr, w.scale, w.lr_dir, run);
        r.lr_size = lr.size();
        // Timed: the network (or the interpolation) only; decoding and
        // scoring excluded.
        const auto start = std::chrono::steady_clock::now();
        const cv::Mat sr = baseline ? matlab_imresize(lr, w.scale, baseline->kernel)
                                    : upscaler->upscale(lr, args.mode, [&run](double) {
                                        if (run.stop()) throw Cancelled();
                                      });
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        // Scoring needs memory of its own: the maps kept for an image of the
        // same size would add to it (a 960x540 photo peaked at 887 MiB
        // instead of 670), and test sets rarely repeat a size.
        if (!baseline) upscaler->release_memory();
        return sr;
      };
      KeepSr keep_sr;
      if (!args.save_sr.empty()) {
        keep_sr = [dir = save_dir(w, method)](const ImagePair& pair, const cv::Mat& sr) {
          write_image(sr_path(dir, pair), sr);
        };
      }
      score_pairs(set, w.pairs, run, make_sr, keep_sr);
      print_mean(run.rows, set);
      scored.push_back(std::move(set));
    }
  }
  print_summary(scored, args.scoring);
  return write_score_files(scored, args.scoring, shard.all() ? "" : shard.text());
}

}  // namespace fdiwn::cli
