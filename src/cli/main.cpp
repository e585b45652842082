// fdiwn: command-line front end. Parses the command line, sets up logging
// and maps the library's exceptions to exit codes; the work is done by the
// subcommands, on the library's public API only.
#include <cstdio>
#include <exception>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "exit_codes.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/version.hpp"
#include "upscale_command.hpp"

namespace {

void setup_logging(int verbosity, bool quiet) {
  auto logger = spdlog::stderr_color_mt("fdiwn");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(quiet           ? spdlog::level::err
                    : verbosity > 0 ? spdlog::level::debug
                                    : spdlog::level::info);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace fdiwn::cli;
  CLI::App app{"fdiwn: FDIWN single-image super-resolution (x2, x3, x4) on the CPU", "fdiwn"};
  app.set_version_flag("-V,--version", FDIWN_VERSION_STRING);
  app.require_subcommand(1);
  app.fallthrough();  // -v/-q also work after the subcommand
  app.footer(kExitCodeHelp);
  int verbosity = 0;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbosity, "More log output");
  app.add_flag("-q,--quiet", quiet, "Only errors");

  UpscaleArgs upscale_args;
  auto* upscale = add_upscale_command(app, upscale_args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  setup_logging(verbosity, quiet);

  try {
    if (upscale->parsed()) return run_upscale(upscale_args);
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
