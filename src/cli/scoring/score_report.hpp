// PSNR/SSIM results of `fdiwn bench` and `fdiwn metrics`: the table on
// stdout, CSV and JSON files, and reading JSON back (to merge shards).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core/types.hpp>

namespace fdiwn::cli {

struct ImageScore {
  std::string name;
  std::string hr;
  std::string other;  ///< the LR image (bench; empty if made from HR) or SR image (metrics)
  cv::Size lr_size;
  double psnr = 0;
  double ssim = 0;
  double seconds = -1;  ///< the network alone (bench), or -1
  std::string error;    ///< non-empty: failed, left out of the mean
};

/// One scale of one method on one test set.
struct ScoreSet {
  std::string set_name;  ///< the test set ("Set5")
  std::string method;    ///< "FDIWN", a baseline ("Bicubic"), or metrics' --sr name
  int scale = 0;
  std::string mode;  ///< "chop", "whole", or "" for metrics
  bool tta = false;
  bool y_channel = true;
  int crop_border = 0;
  std::vector<ImageScore> images;
};

struct SetMean {
  int count = 0;  ///< images scored
  double psnr = 0, ssim = 0;
  double seconds = 0;     ///< total network time
  double megapixels = 0;  ///< LR megapixels of the images timed
};

SetMean mean_of(const ScoreSet& set);

/// The table, printed as the rows come in.
void print_header(std::FILE* out, const ScoreSet& set, const std::string& title);
void print_row(std::FILE* out, const ImageScore& row);
void print_mean(std::FILE* out, const ScoreSet& set);

/// One CSV line per image (and per scale), then the means.
std::string to_csv(const std::vector<ScoreSet>& sets);
nlohmann::json to_json(const std::vector<ScoreSet>& sets);
/// Reads to_json's output back; throws InvalidArgument naming `source`.
std::vector<ScoreSet> from_json(const nlohmann::json& doc, const std::string& source);

}  // namespace fdiwn::cli
