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

/// Temporary files being written, removed by a second signal.
void register_temp_file(const std::string& path);
void unregister_temp_file(const std::string& path);

}  // namespace fdiwn::cli
