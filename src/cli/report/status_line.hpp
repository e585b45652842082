// A log sink for terminals that keeps one status line (the progress bar)
// at the bottom: log messages are printed above it and it is redrawn.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>

namespace fdiwn::cli {

class StatusLineSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  /// Draws on `out` (a terminal).
  explicit StatusLineSink(std::FILE* out) : out_(out) {}
  /// `status` is drawn as is (no newline); empty removes it.
  void set_status(const std::string& status);
  /// Width in columns of the terminal drawn on (80 if unknown).
  int terminal_width() const;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  void draw_status_locked();
  std::FILE* out_;
  std::string status_;
};

}  // namespace fdiwn::cli
