// What the user sees while a batch runs: a progress bar on a terminal
// (done/total, current file, MP/s, ETA), plain log lines otherwise, and the
// summary at the end.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "cli/batch/batch.hpp"
#include "cli/report/status_line.hpp"

namespace fdiwn::cli {

class Reporter : public BatchObserver {
 public:
  /// `status_line`: the terminal sink to draw the bar on, or nullptr for
  /// plain log lines. `threads`: what an image alone runs on (the rate
  /// counts an image run side by side on one thread as that share of them).
  Reporter(size_t total, StatusLineSink* status_line, int threads = 1);

  void started(size_t index, const Job& job, cv::Size size, const RunPlan& plan,
               int threads) override;
  void progress(double fraction) override;
  void finished(size_t index, const FileResult& result) override;

  /// Logs the closing line ("12 done, 3 skipped, 1 failed in 1m02s").
  void summary(const std::vector<FileResult>& results, bool interrupted);

 private:
  using Clock = std::chrono::steady_clock;
  void redraw(bool force);
  void count(size_t index);

  size_t total_;
  StatusLineSink* status_line_;
  int threads_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_draw_{};
  Clock::time_point current_start_{};
  size_t finished_ = 0;  // files completely over (written, skipped, failed)
  // Files whose network work is over. A file run alone counts as soon as
  // the next one starts, before it is written, so the bar never goes back;
  // one run side by side counts when it is over.
  std::vector<bool> counted_;
  size_t counted_count_ = 0;
  size_t current_index_ = 0;
  std::string current_;
  bool current_alone_ = true;
  double current_mp_ = 0;
  double current_fraction_ = 0;
  double upscaled_mp_ = 0;      // LR megapixels of finished upscales
  double upscale_seconds_ = 0;  // and the time they took (a share of it side by side)
};

/// "3.2 s", "4m05s", "1h02m".
std::string format_duration(double seconds);

}  // namespace fdiwn::cli
