// fdiwn: command-line front end. Parses the command line, sets up logging
// and maps the library's exceptions to exit codes; the work is done by the
// subcommands, on the library's public API only. Built into
// libfdiwn_cli.so, which the fdiwn launcher loads.
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <memory>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <opencv2/core/utils/logger.hpp>

#include "bench_command.hpp"
#include "exit_codes.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/version.hpp"
#include "info_command.hpp"
#include "status_line.hpp"
#include "upscale_command.hpp"

namespace {

// On a terminal the log shares stderr with the progress bar; elsewhere
// (pipes, files, CI) it is plain lines.
std::shared_ptr<fdiwn::cli::StatusLineSink> setup_logging(int verbosity, bool quiet) {
  std::shared_ptr<fdiwn::cli::StatusLineSink> status;
  std::shared_ptr<spdlog::logger> logger;
  if (::isatty(STDERR_FILENO) && !quiet) {
    status = std::make_shared<fdiwn::cli::StatusLineSink>();
    logger = std::make_shared<spdlog::logger>("fdiwn", status);
  } else {
    logger = std::make_shared<spdlog::logger>("fdiwn",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
  }
  logger->set_pattern("%l: %v");
  logger->set_level(quiet           ? spdlog::level::err
                    : verbosity > 0 ? spdlog::level::debug
                                    : spdlog::level::info);
  spdlog::set_default_logger(logger);
  return status;
}

}  // namespace

// Called by the launcher (launcher.cpp) once the process is set up.
extern "C" __attribute__((visibility("default"))) int fdiwn_cli_main(int argc, char** argv) {
  using namespace fdiwn::cli;
  CLI::App app{"fdiwn: FDIWN single-image super-resolution (x2, x3, x4) on the CPU", "fdiwn"};
  app.set_version_flag("-V,--version", FDIWN_VERSION_STRING);
  app.require_subcommand(1);
  app.fallthrough();  // -v/-q also work after the subcommand
  app.footer(kExitCodeHelp);
  int verbosity = 0;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbosity, "More log output (per file, plans, timings)");
  app.add_flag("-q,--quiet", quiet, "Only errors");

  UpscaleArgs upscale_args;
  auto* upscale = add_upscale_command(app, upscale_args);
  BenchArgs bench_args;
  auto* bench = add_bench_command(app, bench_args);
  MetricsArgs metrics_args;
  auto* metrics = add_metrics_command(app, metrics_args);
  InfoArgs info_args;
  auto* info = add_info_command(app, info_args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  const auto status_line = setup_logging(verbosity, quiet);
  // OpenCV's decoders log their own complaints to stderr; ours name the file
  // and the reason in one line.
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);

  try {
    if (upscale->parsed()) return run_upscale(upscale_args, status_line.get());
    if (bench->parsed()) return run_bench(bench_args);
    if (metrics->parsed()) return run_metrics(metrics_args);
    if (info->parsed()) return run_info(info_args);
  } catch (const fdiwn::WeightsError& e) {
    spdlog::error("{}", e.what());
    return kExitWeights;
  } catch (const fdiwn::InvalidArgument& e) {
    spdlog::error("{}", e.what());
    return kExitUsage;
  } catch (const fdiwn::Error& e) {
    spdlog::error("{}", e.what());
    return kExitFailed;
  } catch (const std::exception& e) {
    spdlog::error("unexpected error: {}", e.what());
    return kExitFailed;
  }
  return kExitUsage;
}
