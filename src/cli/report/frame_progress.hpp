// What the user sees while a frame stream runs (on standard error: standard
// output carries the frames): frames done, frames per second and, when the
// count is known (--frame-count), the time left; on a terminal as a status
// line, otherwise as a log line at most every 10 seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "cli/batch/frames.hpp"
#include "cli/report/status_line.hpp"

namespace fdiwn::cli {

class FrameProgress : public FrameObserver {
 public:
  /// `expected`: the frames the stream holds, 0 if unknown.
  FrameProgress(int64_t expected, StatusLineSink* status_line);

  void started(int64_t number, cv::Size size) override;
  void progress(double fraction) override;
  void finished(int64_t number, const FileResult& result) override;

  /// The closing line ("250 frames in 1h02m (0.07 fps), 640x360 -> 1280x720").
  void summary(const std::vector<FileResult>& results, bool interrupted);

 private:
  using Clock = std::chrono::steady_clock;
  void report(bool force);

  int64_t expected_;
  StatusLineSink* status_line_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point first_started_{};
  Clock::time_point last_report_{};
  int64_t written_ = 0;
  int64_t current_ = 0;
  double fraction_ = 0;
};

}  // namespace fdiwn::cli
