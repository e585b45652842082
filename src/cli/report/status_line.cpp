#include "cli/report/status_line.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

namespace fdiwn::cli {

namespace {
constexpr const char* kClearLine = "\r\033[K";

const char* colour(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::err:
    case spdlog::level::critical:
      return "\033[31m";  // red
    case spdlog::level::warn:
      return "\033[33m";  // yellow
    case spdlog::level::debug:
    case spdlog::level::trace:
      return "\033[2m";  // dim
    default:
      return "";
  }
}
}  // namespace

int StatusLineSink::terminal_width() const {
  winsize ws{};
  if (::ioctl(::fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
  return 80;
}

void StatusLineSink::set_status(const std::string& status) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_ = status;
  std::fputs(kClearLine, out_);
  draw_status_locked();
}

void StatusLineSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  std::fputs(kClearLine, out_);
  const char* c = colour(msg.level);
  std::fputs(c, out_);
  std::fwrite(formatted.data(), 1, formatted.size(), out_);
  if (*c) std::fputs("\033[0m", out_);
  draw_status_locked();
}

void StatusLineSink::flush_() {
  std::fflush(out_);
}

void StatusLineSink::draw_status_locked() {
  if (!status_.empty()) std::fputs(status_.c_str(), out_);
  std::fflush(out_);
}

}  // namespace fdiwn::cli
