#include "cli/commands/metrics_command.hpp"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "cli/batch/output_guard.hpp"
#include "cli/commands/scoring_options.hpp"
#include "cli/commands/values.hpp"
#include "cli/scoring/named_folders.hpp"
#include "cli/scoring/pairing.hpp"
#include "cli/scoring/score_report.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/image_io.hpp"

namespace fdiwn::cli {

CLI::App* add_metrics_command(CLI::App& app, MetricsArgs& args) {
  auto* cmd = app.add_subcommand(
      "metrics", "PSNR/SSIM of SR images made by any methods, in the paper's protocol");
  cmd->add_option("--hr", args.hr, "Folder of HR images (a test set named after its folder)");
  one_value_each(cmd->add_option("--set", args.sets,
                                 "A test set: NAME=HR_DIR (several allowed; a column each; "
                                 "'{scale}' in HR_DIR is replaced)"));
  one_value_each(cmd->add_option("--sr", args.sr,
                                 "A method's SR images: NAME=DIR or DIR, paired with HR by name "
                                 "(several allowed; a row each; '{scale}' and '{set}' in DIR are "
                                 "replaced)"))
      ->required();
  one_value_each(cmd->add_option("-s,--scale", args.scales,
                                 "Their scale (HR is mod-cropped by it); several allowed: -s 2 "
                                 "-s 4, or -s 2,4"),
                 ',')
      ->check(CLI::IsMember({2, 3, 4}))
      ->required();
  add_scoring_options(cmd, args.scoring);
  return cmd;
}

int run_metrics(const MetricsArgs& args) {
  std::vector<NamedFolder> sets;
  if (!args.hr.empty()) sets.push_back({folder_label(args.hr), args.hr, ""});
  for (const auto& s : args.sets) sets.push_back(parse_named_folder(s, "--set"));
  if (sets.empty())
    throw InvalidArgument("metrics: give the HR images: --hr DIR or --set NAME=DIR");
  check_unique_names(sets, "--set");
  std::vector<NamedFolder> methods;
  for (const auto& m : args.sr) methods.push_back(parse_named_folder(m, "--sr"));
  check_unique_names(methods, "--sr");
  for (const auto& m : methods) {
    // One folder for several sets or scales would score the same images
    // against every HR set: a mistake, not a comparison.
    if (sets.size() > 1 && m.dir.find("{set}") == std::string::npos) {
      throw InvalidArgument("--sr " + m.name + "=" + m.dir +
                            ": with several sets, put {set} in the folder");
    }
    if (args.scales.size() > 1 && m.dir.find("{scale}") == std::string::npos) {
      throw InvalidArgument("--sr " + m.name + "=" + m.dir +
                            ": with several scales, put {scale} in the folder");
    }
  }

  // Every folder is paired, and the result files checked against every
  // image, before any work.
  struct Work {
    int scale;
    const NamedFolder* set;
    const NamedFolder* method;
    std::string hr_dir, sr_dir;
    std::vector<ImagePair> pairs;
  };
  std::vector<Work> work;
  OutputGuard guard;
  for (const int scale : args.scales) {
    for (const auto& set : sets) {
      for (const auto& method : methods) {
        Work w{scale,
               &set,
               &method,
               with_set(with_scale(set.dir, scale), set.name),
               with_set(with_scale(method.dir, scale), set.name),
               {}};
        std::vector<std::string> unmatched;
        w.pairs = pair_images(w.hr_dir, w.sr_dir, &unmatched);
        for (const auto& u : unmatched) spdlog::warn("{}: no HR image pairs with it; left out", u);
        for (const auto& p : w.pairs) {
          guard.add_input(p.hr);
          if (!p.other.empty()) guard.add_input(p.other);
        }
        work.push_back(std::move(w));
      }
    }
  }
  claim_score_files(guard, args.scoring);

  const ScoringRun run = scoring_run(args.scoring);
  std::vector<ScoreSet> scored;
  for (const auto& w : work) {
    ScoreSet set = new_score_set(w.scale, args.scoring);
    set.set_name = w.set->name;
    set.method = w.method->name;
    print_header(run.rows, set,
                 w.method->name + " on " + w.set->name + ": " + w.sr_dir + " against " + w.hr_dir);
    score_pairs(set, w.pairs, run, [&](const ImagePair& pair, const cv::Mat& hr, ImageScore& r) {
      r.lr_size = cv::Size(hr.cols / w.scale, hr.rows / w.scale);
      if (pair.other.empty()) {
        throw ImageError(pair.hr,
                         "no image in " + w.sr_dir + " (" + w.method->name + ") pairs with it");
      }
      return read_image_bgr8(pair.other, run.read);
    });
    print_mean(run.rows, set);
    scored.push_back(std::move(set));
  }
  print_summary(scored, args.scoring);
  return write_score_files(scored, args.scoring);
}

}  // namespace fdiwn::cli
