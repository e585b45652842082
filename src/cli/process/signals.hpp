// SIGINT / SIGTERM / SIGHUP: the first asks the batch to stop (it finishes
// the file being written, cancels the one being upscaled, reports and exits
// 130); a second one removes the temporary files being written and exits at
// once. Either way no partial output is left behind.
#pragma once

#include <string>

namespace fdiwn::cli {

/// Installs the handlers (leaving a signal that was ignored when fdiwn started
/// ignored, so that nohup still protects it), ignores SIGPIPE and unblocks
/// the stop signals the launcher blocked. Called first thing in main, so
/// that no signal finds the process without its handler.
void install_signal_handlers();

/// True once a stop signal arrived.
bool stop_requested();

/// For a process whose work never looks at the stop flag (bench's timing
/// child): from now on a stop signal ends it at once, at its default action.
/// A stop that came earlier, while it started up, was caught by the handler
/// and only raised the flag; it ends the process here (exit 130), so that no
/// stop is lost. A signal that was ignored at start stays ignored.
void end_at_stop_signals();

/// Temporary files being written, removed by a second signal.
void register_temp_file(const std::string& path);
void unregister_temp_file(const std::string& path);

}  // namespace fdiwn::cli
