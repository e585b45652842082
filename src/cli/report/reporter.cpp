#include "cli/report/reporter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "cli/report/printable.hpp"

namespace fdiwn::cli {

namespace {

double megapixels(cv::Size s) {
  return static_cast<double>(s.area()) / 1e6;
}

std::string size_str(cv::Size s) {
  return std::to_string(s.width) + "x" + std::to_string(s.height);
}

// Keeps the end of a long name, which is the part that tells files apart.
std::string shorten(const std::string& s, size_t width) {
  if (s.size() <= width || width < 4) return s;
  return "..." + s.substr(s.size() - (width - 3));
}

}  // namespace

std::string format_duration(double seconds) {
  char buf[32];
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  } else if (seconds < 3600) {
    const int s = static_cast<int>(seconds);
    std::snprintf(buf, sizeof buf, "%dm%02ds", s / 60, s % 60);
  } else {
    const int m = static_cast<int>(seconds / 60);
    std::snprintf(buf, sizeof buf, "%dh%02dm", m / 60, m % 60);
  }
  return buf;
}

Reporter::Reporter(size_t total, StatusLineSink* status_line, int threads)
    : total_(total),
      status_line_(status_line),
      threads_(std::max(1, threads)),
      counted_(total, false) {}

void Reporter::count(size_t index) {
  if (index < counted_.size() && !counted_[index]) {
    counted_[index] = true;
    ++counted_count_;
  }
}

void Reporter::started(size_t index, const Job& job, cv::Size size, const RunPlan& plan,
                       int threads) {
  if (!current_.empty() && current_alone_) count(current_index_);
  current_alone_ = threads >= threads_;
  current_index_ = index;
  current_ = printable(job.display);
  current_mp_ = megapixels(size);
  current_fraction_ = 0;
  current_start_ = Clock::now();
  spdlog::debug("[{}/{}] {}: {} LR pixels, {} ({} piece{}, {} pass{}, ~{} MiB), {} thread{}{}",
                index + 1, total_, job.display, size_str(size), to_string(plan.mode), plan.pieces,
                plan.pieces == 1 ? "" : "s", plan.passes, plan.passes == 1 ? "" : "es",
                plan.peak_bytes >> 20, threads, threads == 1 ? "" : "s",
                current_alone_ ? "" : " (side by side)");
  redraw(true);
}

void Reporter::progress(double fraction) {
  current_fraction_ = fraction;
  redraw(false);
}

void Reporter::finished(size_t index, const FileResult& r) {
  ++finished_;
  count(index);
  const std::string where = "[" + std::to_string(index + 1) + "/" + std::to_string(total_) + "] ";
  for (const auto& note : r.notes) spdlog::info("{}{}: {}", where, r.job.display, note);
  switch (r.status) {
    case FileStatus::Done: {
      upscaled_mp_ += megapixels(r.input_size);
      upscale_seconds_ += r.upscale_seconds * std::clamp(r.threads, 1, threads_) / threads_;
      // On a terminal the bar shows this; in a log each file gets a line.
      const auto level = status_line_ ? spdlog::level::debug : spdlog::level::info;
      spdlog::log(level, "{}{} -> {} ({} -> {}, {})", where, r.job.display, r.job.output,
                  size_str(r.input_size), size_str(r.output_size), format_duration(r.seconds));
      break;
    }
    case FileStatus::Skipped:
      spdlog::debug("{}{} skipped: {}", where, r.job.display, r.error);
      break;
    case FileStatus::Failed:
      spdlog::error("{}", r.error);
      break;
    case FileStatus::Cancelled:
      break;
  }
  if (index == current_index_) current_.clear();
  redraw(true);
}

void Reporter::redraw(bool force) {
  if (!status_line_) return;
  const auto now = Clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;

  const bool in_progress = !current_.empty() && !counted_[current_index_];
  const double done_units = counted_count_ + (in_progress ? current_fraction_ : 0.0);
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  // Rate over finished upscales, or the current one before any finished.
  double rate = upscale_seconds_ > 0 ? upscaled_mp_ / upscale_seconds_ : 0.0;
  const double current_elapsed = std::chrono::duration<double>(now - current_start_).count();
  if (rate == 0 && !current_.empty() && current_fraction_ > 0 && current_elapsed > 0) {
    rate = current_mp_ * current_fraction_ / current_elapsed;
  }
  std::string eta = "--";
  if (done_units > 0.05 && done_units < total_) {
    eta = format_duration(elapsed / done_units * (total_ - done_units));
  }

  const int width = status_line_->terminal_width();
  const int bar_width = std::clamp(width / 5, 10, 30);
  const int filled =
      static_cast<int>(std::round(bar_width * done_units / std::max<size_t>(total_, 1)));
  char stats[96];
  std::snprintf(stats, sizeof stats, " %zu/%zu  %.3g MP/s  ETA %s  ", finished_, total_, rate,
                eta.c_str());
  std::string line = "[" + std::string(filled, '#') + std::string(bar_width - filled, '.') + "]";
  line += stats;
  const int room = width - 1 - static_cast<int>(line.size());
  if (!current_.empty() && room > 8) {
    char pct[16];
    std::snprintf(pct, sizeof pct, " %3.0f%%", current_fraction_ * 100);
    line += shorten(current_, static_cast<size_t>(room) - 5) + pct;
  }
  status_line_->set_status(line);
}

void Reporter::summary(const std::vector<FileResult>& results, bool interrupted) {
  if (status_line_) status_line_->set_status("");
  size_t counts[4] = {0, 0, 0, 0};
  for (const auto& r : results) ++counts[static_cast<int>(r.status)];
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  std::string line = std::to_string(counts[0]) + " done, " + std::to_string(counts[1]) +
                     " skipped, " + std::to_string(counts[2]) + " failed";
  if (counts[3]) line += ", " + std::to_string(counts[3]) + " not processed";
  line += " in " + format_duration(elapsed);
  if (upscale_seconds_ > 0) {
    char rate[48];
    std::snprintf(rate, sizeof rate, " (%.3g MP/s)", upscaled_mp_ / upscale_seconds_);
    line += rate;
  }
  if (interrupted) {
    spdlog::warn("interrupted: {}", line);
  } else {
    spdlog::info("{}", line);
  }
}

}  // namespace fdiwn::cli
