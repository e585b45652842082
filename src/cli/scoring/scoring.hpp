// Scoring image pairs in the paper's protocol, the one routine behind
// `fdiwn bench` (the SR image made by the network) and `fdiwn metrics` (the
// SR image read from a file): HR read and mod-cropped, sizes checked naming
// the right file, PSNR/SSIM, a row printed per image. Any failure is that
// image's one-line error; a stop request ends the run.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "cli/scoring/pairing.hpp"
#include "cli/scoring/score_report.hpp"
#include "fdiwn/image_io.hpp"

namespace fdiwn::cli {

class OutputGuard;
struct Shard;

/// The options bench and metrics share.
struct ScoringArgs {
  int crop_border = -1;  ///< -1: the scale
  bool rgb = false;
  std::string max_pixels = "100M";
  std::string csv;
  std::string json;
  /// --table: "" (a text summary when more than one scale, set or method
  /// was scored), or
  /// text, md, latex (the summary always; with md or latex the per-image
  /// rows go to stderr, so that stdout holds the table alone).
  std::string table;
};

/// Where the per-image rows and each set's header and mean are printed.
std::FILE* rows_stream(const ScoringArgs& args);

/// Prints score_table() of `sets` to stdout when there is more than one set
/// or --table was given.
void print_summary(const std::vector<ScoreSet>& sets, const ScoringArgs& args);

/// A set for `scale` scored as `args` say.
ScoreSet new_score_set(int scale, const ScoringArgs& args);

/// Claims --csv and --json in `guard` (before any work), so that neither is
/// an input nor the other.
void claim_score_files(OutputGuard& guard, const ScoringArgs& args);

/// Writes --csv and --json (`shard`, "K/N", recorded in the JSON for
/// --merge); returns 1 if an image failed, else 0.
int write_score_files(const std::vector<ScoreSet>& sets, const ScoringArgs& args,
                      const std::string& shard = "");

/// Makes the SR image of `pair` for the mod-cropped HR image `hr`, filling
/// the row's LR size (and seconds, if timed). Throws on failure.
using MakeSr = std::function<cv::Mat(const ImagePair& pair, const cv::Mat& hr, ImageScore& row)>;

/// Called with each SR image that was scored (to save it).
using KeepSr = std::function<void(const ImagePair& pair, const cv::Mat& sr)>;

struct ScoringRun {
  ReadOptions read;                                   ///< for every image read
  std::FILE* rows = stdout;                           ///< where each image's row is printed
  std::function<bool()> stop = [] { return false; };  ///< true: throw Cancelled
};

/// Scores every pair into `set` (its scale, channel and border set), printing
/// each row to stdout as it comes.
void score_pairs(ScoreSet& set, const std::vector<ImagePair>& pairs, const ScoringRun& run,
                 const MakeSr& make_sr, const KeepSr& keep_sr = {});

}  // namespace fdiwn::cli
