// fdiwn: command-line front end. Parses the command line, sets up logging
// and maps the library's exceptions to exit codes; the work is done by the
// subcommands, on the library's public API only. Built into
// libfdiwn_cli.so, which the fdiwn launcher loads.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <string_view>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <opencv2/core/utils/logger.hpp>

#include "cli/commands/bench_command.hpp"
#include "cli/commands/info_command.hpp"
#include "cli/commands/metrics_command.hpp"
#include "cli/commands/upscale_command.hpp"
#include "cli/commands/values.hpp"
#include "cli/process/exit_codes.hpp"
#include "cli/process/signals.hpp"
#include "cli/report/library_messages.hpp"
#include "cli/report/printable.hpp"
#include "cli/report/status_line.hpp"
#include "fdiwn/environment.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/version.hpp"

namespace {

// The message of a log line with control characters escaped (see
// printable.hpp): every message passes here, whoever built it.
class PrintableMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string text =
        fdiwn::cli::printable(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PrintableMessage>();
  }
};

// On a terminal the log shares stderr with the progress bar; elsewhere
// (pipes, files, CI) it is plain lines. `out` is the original stderr (see
// library_messages.hpp).
std::shared_ptr<fdiwn::cli::StatusLineSink> setup_logging(std::FILE* out, int verbosity,
                                                          bool quiet) {
  std::shared_ptr<fdiwn::cli::StatusLineSink> status;
  std::shared_ptr<spdlog::logger> logger;
  if (::isatty(::fileno(out)) && !quiet) {
    status = std::make_shared<fdiwn::cli::StatusLineSink>(out);
    logger = std::make_shared<spdlog::logger>("fdiwn", status);
  } else {
    logger = std::make_shared<spdlog::logger>(
        "fdiwn",
        std::make_shared<spdlog::sinks::stdout_sink_base<spdlog::details::console_mutex>>(out));
  }
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<PrintableMessage>('*').set_pattern("%l: %*");
  logger->set_formatter(std::move(formatter));
  logger->set_level(quiet           ? spdlog::level::err
                    : verbosity > 0 ? spdlog::level::debug
                                    : spdlog::level::info);
  spdlog::set_default_logger(logger);
  return status;
}

// Runs the parsed subcommand; an exception that ends the whole run is
// logged and mapped to its exit code (per-file failures never get here).
int run_parsed(const std::function<int()>& command) {
  using namespace fdiwn::cli;
  try {
    const int code = command();
    return stop_requested() && code == kExitOk ? kExitInterrupted : code;
  } catch (const fdiwn::Cancelled&) {
    spdlog::warn("interrupted");
    return kExitInterrupted;
  } catch (const fdiwn::Error& e) {
    spdlog::error("{}", e.what());
    return exit_code_for(e);
  } catch (const std::bad_alloc&) {
    spdlog::error("out of memory");
    return kExitFailed;
  } catch (const std::exception& e) {
    spdlog::error("unexpected error: {}", e.what());
    return kExitFailed;
  }
}

}  // namespace

// Called by the launcher (launcher.cpp) once the process is set up.
extern "C" __attribute__((visibility("default"))) int fdiwn_cli_main(int argc, char** argv) {
  using namespace fdiwn::cli;
  // First of all, so that no stop signal finds the process without them.
  install_signal_handlers();
  CLI::App app{"fdiwn: FDIWN single-image super-resolution (x2, x3, x4) on the CPU", "fdiwn"};
  app.set_version_flag("-V,--version", FDIWN_VERSION_STRING);
  app.require_subcommand(1);
  app.fallthrough();  // -v/-q also work after the subcommand
  app.footer(kExitCodeHelp);
  int verbosity = 0;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbosity, "More log output (per file, plans, timings)");
  // One or the other (found by hand: with both, -q won without a word).
  app.add_flag("-q,--quiet", quiet, "Only errors")->excludes("-v");

  UpscaleArgs upscale_args;
  auto* upscale = add_upscale_command(app, upscale_args);
  BenchArgs bench_args;
  auto* bench = add_bench_command(app, bench_args);
  MetricsArgs metrics_args;
  auto* metrics = add_metrics_command(app, metrics_args);
  InfoArgs info_args;
  auto* info = add_info_command(app, info_args);
  for (CLI::App* cmd : {upscale, bench, metrics, info}) {
    refuse_empty_values(cmd);
    refuse_repeated_values(cmd);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (app.get_subcommands().empty()) {
      // Found by hand: `fdiwn bogus` said only "A subcommand is required".
      // The options before a command are flags: its first word is the command.
      const auto word = std::find_if(argv + 1, argv + argc,
                                     [](const char* a) { return a[0] != '-' && a[0] != '\0'; });
      if (word != argv + argc) {
        std::fprintf(stderr,
                     "unknown command '%s' (the commands: upscale, bench, metrics, info)\n"
                     "Run with --help for more information.\n",
                     printable(*word).c_str());
        return kExitUsage;
      }
    }
    const int rc = app.exit(e);
    if (rc == 0) return kExitOk;
    // The --json document promised for usage errors, also for those found
    // while parsing (the flag itself may not have been stored yet).
    const bool json = std::any_of(argv + 1, argv + argc,
                                  [](const char* a) { return std::string_view(a) == "--json"; });
    if (json && upscale->parsed()) write_error_json(upscale_args, kExitUsage, e.what());
    return kExitUsage;
  }
  const auto status_line = setup_logging(log_stream(), verbosity, quiet);
  // OpenCV's decoders log their own complaints, and libpng and libtiff print
  // theirs to stderr: ours name the file and the reason in one line, theirs
  // are shown with -v.
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  capture_library_messages();
  // Found by hand: OMP_NUM_THREADS=999999 was passed over without a word.
  const fdiwn::ThreadDefault threads = fdiwn::thread_default();
  if (!threads.ignored.empty() && ((upscale->parsed() && upscale_args.threads == 0) ||
                                   (bench->parsed() && bench_args.threads == 0))) {
    spdlog::warn(
        "OMP_NUM_THREADS='{}' is not a thread count from 1 to {} (4 per core): using the "
        "{} cores (-j to choose)",
        threads.ignored, fdiwn::most_threads(), threads.count);
  }

  const int code = run_parsed([&] {
    if (upscale->parsed()) return run_upscale(upscale_args, status_line.get());
    if (bench->parsed()) {
      bench_args.given = given_options(*bench);
      return run_bench(bench_args);
    }
    if (metrics->parsed()) return run_metrics(metrics_args);
    if (info->parsed()) return run_info(info_args);
    return static_cast<int>(kExitUsage);
  });
  // What was printed must have reached standard output (not a closed pipe,
  // not a full disk): a report that did not arrive is not a success.
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    spdlog::error("cannot write to standard output: {}", std::strerror(errno));
    return code == kExitOk ? kExitFailed : code;
  }
  return code;
}
