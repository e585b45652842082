#include "cli/report/frame_progress.hpp"

#include <algorithm>
#include <string>

#include <spdlog/spdlog.h>

#include "cli/report/reporter.hpp"

namespace fdiwn::cli {

namespace {

std::string size_text(cv::Size s) {
  return std::to_string(s.width) + "x" + std::to_string(s.height);
}

}  // namespace

FrameProgress::FrameProgress(int64_t expected, StatusLineSink* status_line)
    : expected_(expected), status_line_(status_line) {}

void FrameProgress::started(int64_t number, cv::Size) {
  if (number == 1) first_started_ = Clock::now();
  current_ = number;
  fraction_ = 0;
  report(false);
}

void FrameProgress::progress(double fraction) {
  fraction_ = fraction;
  if (status_line_) report(false);
}

void FrameProgress::finished(int64_t number, const FileResult& r) {
  // Notes are the same for every frame: said once.
  if (number == 1) {
    for (const auto& note : r.notes) spdlog::info("frames: {}", note);
  }
  if (r.status == FileStatus::Failed) spdlog::error("{}", r.error);
  if (r.status == FileStatus::Done) {
    ++written_;
    report(expected_ > 0 && written_ == expected_);
  }
}

// "frame 12 of 250, 0.42 fps, 9m30s left": the rate over the frames written
// since the network started on the first (a pipeline fills first).
void FrameProgress::report(bool force) {
  const auto now = Clock::now();
  const auto every = status_line_ ? std::chrono::milliseconds(200) : std::chrono::seconds(10);
  if (!force && last_report_ != Clock::time_point{} && now - last_report_ < every) return;
  last_report_ = now;
  const double elapsed = first_started_ == Clock::time_point{}
                             ? 0.0
                             : std::chrono::duration<double>(now - first_started_).count();
  const double fps = elapsed > 0 && written_ > 0 ? written_ / elapsed : 0.0;
  const int64_t number = std::max(current_, written_);
  std::string line = "frame " + std::to_string(number);
  // Past --frame-count, the count was wrong: no "frame 2 of 1", and no time
  // left (found by hand).
  const bool counted = expected_ > 0 && number <= expected_;
  if (counted) line += " of " + std::to_string(expected_);
  if (fps > 0) {
    line += fmt::format(", {:.3g} fps", fps);
    if (counted && expected_ > written_) {
      line += ", " + format_duration((expected_ - written_ - fraction_) / fps) + " left";
    }
  }
  if (status_line_) {
    status_line_->set_status(line);
  } else {
    spdlog::info("{}", line);
  }
}

void FrameProgress::summary(const std::vector<FileResult>& results, bool interrupted) {
  if (status_line_) status_line_->set_status("");
  const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  cv::Size in, out;
  for (const auto& r : results) {
    if (r.status != FileStatus::Done) continue;
    in = r.input_size;
    out = r.output_size;
  }
  std::string line = std::to_string(written_) + " frame" + (written_ == 1 ? "" : "s") +
                     " written in " + format_duration(seconds);
  if (written_ > 0 && seconds > 0) {
    line +=
        fmt::format(" ({:.3g} fps), {} -> {}", written_ / seconds, size_text(in), size_text(out));
  }
  if (interrupted) line += "; interrupted: the stream ends after the last whole frame";
  spdlog::info("{}", line);
  // (A failed frame ends the stream early: its error said why.)
  const bool failed = std::any_of(results.begin(), results.end(), [](const FileResult& r) {
    return r.status == FileStatus::Failed;
  });
  if (expected_ > 0 && !interrupted && !failed && written_ != expected_) {
    spdlog::warn("--frame-count {} was not the stream's length: {} frame{} written", expected_,
                 written_, written_ == 1 ? " was" : "s were");
  }
}

}  // namespace fdiwn::cli
