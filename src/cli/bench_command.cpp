#include "bench_command.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

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
#include "sharding.hpp"

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
// Writes the CSV/JSON files asked for; `shard` ("K/N") is recorded in the
// JSON so that --merge can tell whether every shard is there.
int finish(const std::vector<ScoreSet>& sets, const ScoringArgs& scoring,
           const Shard& shard = Shard{}) {
  if (!scoring.csv.empty()) write_text(scoring.csv, to_csv(sets));
  if (!scoring.json.empty()) {
    nlohmann::json doc = to_json(sets);
    if (!shard.all()) doc["shard"] = shard.text();
    write_text(scoring.json,
               doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  for (const auto& set : sets) {
    for (const auto& r : set.images) {
      if (!r.error.empty()) return kExitFailed;
    }
  }
  return kExitOk;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidArgument(path + ": cannot read");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
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

// Combines shards' JSON results: per scale (and mode, protocol), the union of
// their images in name order, so the table and the means are those of a
// single run over the whole set.
// Which shards of a K/N split went into one merged set, to refuse a table
// that silently covers only part of the set.
struct ShardsSeen {
  std::map<int64_t, std::string> files;  ///< shard index -> the file that had it
  std::vector<std::string> unsharded;    ///< files of runs over the whole set
  int64_t count = 0;                     ///< N, once a sharded file was seen
};

std::string set_label(const ScoreSet& set) {
  return "x" + std::to_string(set.scale) + (set.mode.empty() ? "" : " " + set.mode) +
         (set.tta ? " tta" : "");
}

void check_shards(const ShardsSeen& seen, const ScoreSet& set) {
  if (seen.count == 0) return;  // whole-set results only: nothing to check
  if (!seen.unsharded.empty()) {
    throw InvalidArgument("--merge: " + seen.unsharded.front() + " holds the whole " +
                          set_label(set) + " set, the others are shards of it");
  }
  std::vector<std::string> missing;
  for (int64_t k = 0; k < seen.count; ++k) {
    if (!seen.files.count(k)) missing.push_back(Shard{k, seen.count}.text());
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    throw InvalidArgument("--merge: " + set_label(set) + ": no result for shard(s) " + list +
                          ": the table would cover only part of the set");
  }
}

int run_merge(const std::vector<std::string>& files, const ScoringArgs& scoring) {
  using Key = std::tuple<int, std::string, bool, bool, int>;
  std::map<Key, ScoreSet> merged;
  std::map<Key, ShardsSeen> shards;
  for (const auto& f : files) {
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(read_text(f));
    } catch (const nlohmann::json::exception& e) {
      throw InvalidArgument(f + ": not JSON (" + e.what() + ")");
    }
    const auto shard_field = doc.find("shard");
    Shard shard;
    if (shard_field != doc.end()) {
      if (!shard_field->is_string() || shard_field->get<std::string>() == "slurm") {
        throw InvalidArgument(f + ": 'shard' is not K/N");
      }
      shard = parse_shard(shard_field->get<std::string>());
    }
    for (auto& set : from_json(doc, f)) {
      const Key key{set.scale, set.mode, set.tta, set.y_channel, set.crop_border};
      auto& seen = shards[key];
      if (shard.all()) {
        seen.unsharded.push_back(f);
      } else {
        if (seen.count != 0 && seen.count != shard.count) {
          throw InvalidArgument("--merge: " + f + " is shard " + shard.text() + " but " +
                                seen.files.begin()->second + " is one of " +
                                std::to_string(seen.count) + " shards");
        }
        seen.count = shard.count;
        const auto [it, added] = seen.files.emplace(shard.index, f);
        if (!added) {
          throw InvalidArgument("--merge: " + set_label(set) + " shard " + shard.text() +
                                " is in both " + it->second + " and " + f);
        }
      }
      auto& into = merged[key];
      if (into.scale == 0) {
        into = set;
        into.images.clear();
      }
      into.images.insert(into.images.end(), set.images.begin(), set.images.end());
    }
  }
  std::vector<ScoreSet> sets;
  for (auto& [key, set] : merged) {
    check_shards(shards[key], set);
    std::sort(set.images.begin(), set.images.end(),
              [](const ImageScore& a, const ImageScore& b) { return a.name < b.name; });
    for (size_t i = 1; i < set.images.size(); ++i) {
      if (set.images[i].name == set.images[i - 1].name) {
        throw InvalidArgument("--merge: image '" + set.images[i].name + "' (x" +
                              std::to_string(set.scale) + ") is in more than one result");
      }
    }
    print_header(stdout, set, "Merged from " + std::to_string(files.size()) + " result files:");
    for (const auto& r : set.images) print_row(stdout, r);
    print_mean(stdout, set);
    sets.push_back(std::move(set));
  }
  return finish(sets, scoring);
}

int run_bench(const BenchArgs& args) {
  if (args.speed || !args.speed_args.child_case.empty()) {
    SpeedArgs speed = args.speed_args;
    speed.scales = args.scales;
    speed.threads = args.threads;
    speed.json = args.scoring.json;
    return run_speed(speed);
  }
  if (!args.merge.empty()) return run_merge(args.merge, args.scoring);
  if (args.hr.empty()) throw InvalidArgument("bench: --hr is required (or --speed, --merge)");
  const Shard shard = parse_shard(args.shard);
  if (args.scales.empty()) throw InvalidArgument("bench: give at least one scale (-s)");
  std::vector<ScoreSet> sets;
  for (const int scale : args.scales) {
    const std::string hr_dir = with_scale(args.hr, scale);
    const std::string lr_dir = args.lr.empty() ? "" : with_scale(args.lr, scale);
    std::vector<std::string> unmatched;
    auto pairs = pair_images(hr_dir, lr_dir, &unmatched);
    for (const auto& u : unmatched) spdlog::warn("{}: no HR image pairs with it; left out", u);
    if (!shard.all()) {
      const size_t total =
          keep_shard(pairs, shard, [](const ImagePair& p) -> const std::string& { return p.name; });
      spdlog::info("x{} shard {}: {} of {} images", scale, shard.text(), pairs.size(), total);
    }

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
  return finish(sets, args.scoring, shard);
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
