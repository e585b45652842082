#include "cli/scoring/scoring.hpp"

#include <spdlog/spdlog.h>

#include "cli/batch/output_guard.hpp"
#include "cli/report/failure.hpp"
#include "cli/report/library_messages.hpp"
#include "cli/report/table.hpp"
#include "cli/scoring/score_table.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"
#include "fdiwn/matlab_resize.hpp"
#include "fdiwn/metrics.hpp"

namespace fdiwn::cli {

namespace {

std::string size_text(const cv::Mat& m) {
  return std::to_string(m.cols) + "x" + std::to_string(m.rows);
}

// Scores one pair; throws naming the file at fault.
void score_one(const ScoreSet& set, const ImagePair& pair, const ScoringRun& run,
               const MakeSr& make_sr, const KeepSr& keep_sr, ImageScore& r) {
  const cv::Mat full_hr = read_image_bgr8(pair.hr, run.read);
  if (full_hr.cols < set.scale || full_hr.rows < set.scale) {
    throw ImageError(pair.hr, "is " + size_text(full_hr) + ", smaller than the scale x" +
                                  std::to_string(set.scale) +
                                  ": nothing is left after the mod-crop");
  }
  const cv::Mat hr = mod_crop(full_hr, set.scale).clone();
  if (int64_t{2} * set.crop_border >= hr.cols || int64_t{2} * set.crop_border >= hr.rows) {
    throw ImageError(pair.hr, "is " + size_text(hr) + " after the mod-crop: shaving " +
                                  std::to_string(set.crop_border) +
                                  " pixels from each border leaves nothing to score");
  }
  const cv::Mat sr = make_sr(pair, hr, r);
  if (sr.size() != hr.size()) {
    const std::string& sr_file = pair.other.empty() ? pair.hr : pair.other;
    throw ImageError(sr_file, "the SR image is " + size_text(sr) + ", but the HR image " + pair.hr +
                                  " is " + size_text(hr) + " after the mod-crop by " +
                                  std::to_string(set.scale));
  }
  const Score s = score(sr, hr, ScoreOptions{set.crop_border, set.y_channel});
  r.psnr = s.psnr;
  r.ssim = s.ssim;
  if (keep_sr) keep_sr(pair, sr);
}

}  // namespace

ScoreSet new_score_set(int scale, const ScoringArgs& args) {
  ScoreSet set;
  set.scale = scale;
  set.y_channel = !args.rgb;
  set.crop_border = args.crop_border >= 0 ? args.crop_border : scale;
  return set;
}

void claim_score_files(OutputGuard& guard, const ScoringArgs& args) {
  for (const auto& [path, option] :
       {std::pair{args.csv, "--csv"}, std::pair{args.json, "--json"}}) {
    if (path.empty()) continue;
    guard.claim_or_throw(path, option);
    check_report_path(path, option);  // what can never be written: now, not after the work
  }
}

int write_score_files(const std::vector<ScoreSet>& sets, const ScoringArgs& args,
                      const std::string& shard) {
  if (!args.csv.empty()) write_report(args.csv, to_csv(sets));
  if (!args.json.empty()) {
    nlohmann::json doc = to_json(sets);
    if (!shard.empty()) doc["shard"] = shard;
    write_report(args.json,
                 doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  for (const auto& set : sets) {
    for (const auto& r : set.images) {
      if (!r.error.empty()) return 1;
    }
  }
  return 0;
}

std::FILE* rows_stream(const ScoringArgs& args) {
  if (args.table.empty()) return stdout;
  // stderr itself carries the libraries' captured messages (library_messages.hpp).
  return parse_table_format(args.table) == TableFormat::Text ? stdout : log_stream();
}

void print_summary(const std::vector<ScoreSet>& sets, const ScoringArgs& args) {
  if (sets.size() < 2 && args.table.empty()) return;
  const TableFormat format =
      args.table.empty() ? TableFormat::Text : parse_table_format(args.table);
  const std::string text = render(score_table(sets, psnr_digits_for(format)), format);
  if (format == TableFormat::Text) std::fputs("\n", stdout);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

void score_pairs(ScoreSet& set, const std::vector<ImagePair>& pairs, const ScoringRun& run,
                 const MakeSr& make_sr, const KeepSr& keep_sr) {
  for (const auto& pair : pairs) {
    if (run.stop()) throw Cancelled();
    ImageScore r;
    r.name = pair.name;
    r.hr = pair.hr;
    r.other = pair.other;
    try {
      score_one(set, pair, run, make_sr, keep_sr, r);
    } catch (const Cancelled&) {
      throw;
    } catch (...) {
      r.error =
          describe_failure(std::current_exception(), pair.other.empty() ? pair.hr : pair.other);
      spdlog::error("{}", r.error);
    }
    print_row(run.rows, r);
    set.images.push_back(std::move(r));
  }
}

}  // namespace fdiwn::cli
