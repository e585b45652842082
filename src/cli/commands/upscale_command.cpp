#include "cli/commands/upscale_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "cli/batch/batch.hpp"
#include "cli/batch/frames.hpp"
#include "cli/batch/jobs.hpp"
#include "cli/batch/sharding.hpp"
#include "cli/commands/values.hpp"
#include "cli/process/decoder_limits.hpp"
#include "cli/process/exit_codes.hpp"
#include "cli/process/signals.hpp"
#include "cli/report/frame_progress.hpp"
#include "cli/report/json_report.hpp"
#include "cli/report/library_messages.hpp"
#include "cli/report/reporter.hpp"
#include "fdiwn/environment.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"
#include "fdiwn/upscaler.hpp"

namespace fdiwn::cli {

CLI::App* add_upscale_command(CLI::App& app, UpscaleArgs& args) {
  auto* cmd = app.add_subcommand("upscale", "Upscale images x2, x3 or x4 (files or folders)");
  cmd->add_option("-i,--input", args.inputs,
                  "Input images and/or folders; - reads one image from standard input")
      ->required();
  cmd->add_option("-o,--output", args.output,
                  "Output file (one input file) or folder (several inputs, or a folder); - writes "
                  "one image to standard output (format from -f, PNG by default)")
      ->required();
  auto* scale = cmd->add_option("-s,--scale", args.scale, "Upscaling factor (the network's)")
                    ->check(CLI::IsMember({2, 3, 4}))
                    ->capture_default_str();
  auto* outscale =
      cmd->add_option("--outscale", args.outscale,
                      "Any factor from 1 to 16: the network at the smallest scale that reaches "
                      "it (in two passes beyond 4), then an area resize to the exact size")
          ->check(number_in(1.0, 16.0))
          ->excludes(scale);
  cmd->add_option("--width", args.width,
                  "Output width in pixels (the height keeps the aspect ratio; with "
                  "--height: fit inside both): passes at -s, then an area resize")
      ->check(positive_number())
      ->excludes(outscale);
  cmd->add_option("--height", args.height, "Output height in pixels (see --width)")
      ->check(positive_number())
      ->excludes(outscale);
  cmd->add_flag("-r,--recursive", args.recursive,
                "Descend into sub-folders; the output folder mirrors the tree");
  cmd->add_option("-f,--format", args.format,
                  "Output format for folders and -o -: png, jpg, webp, avif, tiff, bmp, ppm, pgm "
                  "(default: the input's own, or the -o extension)");
  cmd->add_option("--quality", args.quality,
                  "JPEG/WebP/AVIF quality (WebP: 100 is lossless; AVIF: 100 is the lossless mode, "
                  "4:4:4, within 1 level)")
      ->check(CLI::Range(1, 100))
      ->default_str(std::to_string(WriteOptions{}.quality));
  cmd->add_option("--name", args.name_pattern,
                  "Output file name in a folder: {name} (input name without extension), {ext}, "
                  "{scale}")
      ->default_str("{name}.{ext}");
  add_choice(cmd, "-m,--mode", args.mode,
             "auto: whole image when it fits --max-memory, else split; whole: one pass (the "
             "network's exact output); chop: the authors' evaluation quadrants",
             kModes, parse_mode);
  cmd->add_flag("-x,--tta", args.tta, "Self-ensemble: average the 8 flips/transposes (8x slower)");
  add_choice(cmd, "--alpha", args.alpha, "Alpha channel: network (a second pass) or bicubic (fast)",
             kAlphaModes, parse_alpha_mode);
  add_choice(cmd, "--path", args.path,
             "engine: the band-streaming engine; plain: the module tree op by op (the readable "
             "reference, slower)",
             kPaths, parse_path);
  cmd->add_option("-w,--weights", args.weights,
                  "Weights file (default: the bundled FDIWNx<scale>.pt)");
  cmd->add_option("-j,--threads", args.threads, "Threads for the network (0: all cores)")
      ->check(non_negative_number())
      ->capture_default_str();
  cmd->add_option("--metadata", args.metadata,
                  "keep: carry EXIF (orientation reset, sizes updated, no thumbnail), the ICC "
                  "profile, XMP and IPTC into outputs that can hold them (JPEG, PNG, WebP, "
                  "TIFF, AVIF); strip: write none")
      ->check(CLI::IsMember({"keep", "strip"}))
      ->capture_default_str();
  cmd->add_option("--side-by-side", args.side_by_side,
                  "auto: in a folder, images of up to 0.1 MP run side by side, one per thread "
                  "(faster than sharing each one); off: every image runs on all threads")
      ->check(CLI::IsMember({"auto", "off"}))
      ->capture_default_str();
  cmd->add_option("--max-memory", args.max_memory,
                  "Memory for the batch, e.g. 8G or 40% (default: half of what is available)");
  cmd->add_option("--max-pixels", args.max_pixels,
                  "Refuse inputs larger than this, from their header: 100M, 1e8, 10000x10000")
      ->capture_default_str();
  cmd->add_flag("--overwrite", args.overwrite,
                "Redo outputs that exist (default: skip them, so a re-run resumes)");
  cmd->add_flag("--json", args.json,
                "Print a JSON summary on stdout at the end (on stderr with -o -)");
  cmd->add_option("--shard", args.shard,
                  "Process only shard K of N of the inputs (K/N, 0-based), or 'slurm' for this "
                  "job array task; shards never overlap, whatever is added later");
  auto* frames = cmd->add_flag(
      "--frames", args.frames,
      "Standard input is a stream of video frames (binary PNM, as ffmpeg -f image2pipe -c:v ppm "
      "writes); each is upscaled and written to -o - in turn (-f: their format)");
  cmd->add_option("--frame-count", args.frame_count,
                  "With --frames: how many frames come (to show the time left)")
      // (Found by hand: 99999999999999999999 became 9223372036854775807.)
      ->check(number_in(1, 1e12))
      ->needs(frames);
  cmd->footer(kExitCodeHelp);
  return cmd;
}

namespace {

// Images up to this many LR pixels run side by side, one per thread: the engine's bands
// share one image between threads, but on a small one the threads wait for each other at
// every pass. Measured on 2 cores, x2, folders, side by side against shared: 64x64 images
// 23% less time, 320x240 11%, 640x360 2-8% (with 200 MiB more memory, so those stay shared).
constexpr int64_t kSideBySidePixels = 100000;

// -o - or a path to the file standard output is (-o /dev/stdout, or the
// file it was redirected to): found by hand, the report went into the image.
bool output_is_standard_output(const std::string& output) {
  return is_stream(output) || same_file(output, "/proc/self/fd/1");
}

// A failure to deliver it (a closed pipe) is reported once, by main, which
// checks standard output at the end of every command. When standard output
// carries the image, the report goes to standard error.
void write_json(const UpscaleArgs& args, const std::string& doc) {
  // (The process's stderr is captured for library messages: the report
  // goes to the stream the log writes to.)
  std::FILE* out = output_is_standard_output(args.output) ? log_stream() : stdout;
  std::fwrite(doc.data(), 1, doc.size(), out);
  std::fflush(out);
}

// "leaving out 2 hidden images (a name starting with '.'; first: d/.a.png)".
void note_left_out(const std::vector<std::string>& paths, const char* what, const char* why) {
  if (paths.empty()) return;
  spdlog::info("leaving out {} {}{} ({}; first: {})", paths.size(), what,
               paths.size() == 1 ? "" : "s", why, paths.front());
}

JobRequest job_request(const UpscaleArgs& args) {
  JobRequest request;
  request.inputs = args.inputs;
  request.output = args.output;
  request.recursive = args.recursive;
  request.quality = args.quality;
  request.format = args.format;
  request.name_pattern = args.name_pattern;
  request.scale = args.outscale > 0 ? scale_for_factor(args.outscale) : args.scale;
  request.size = {args.outscale, args.width, args.height};
  return request;
}

UpscalerOptions upscaler_options(const UpscaleArgs& args, std::size_t memory_budget) {
  UpscalerOptions options;
  options.scale = args.outscale > 0 ? scale_for_factor(args.outscale) : args.scale;
  options.weights_path = args.weights;
  options.threads = args.threads;
  options.mode = args.mode;
  options.tta = args.tta;
  options.alpha = args.alpha;
  options.memory_budget = memory_budget;
  options.path = args.path;
  return options;
}

RunInfo run_info(const UpscaleArgs& args) {
  RunInfo run;
  run.scale = args.outscale > 0 ? scale_for_factor(args.outscale) : args.scale;
  run.mode = to_string(args.mode);
  run.tta = args.tta;
  run.shard = args.shard.empty() ? "0/1" : args.shard;
  return run;
}

// What every image of the run is read, upscaled and written with.
BatchOptions batch_options(const UpscaleArgs& args) {
  BatchOptions batch;
  batch.read.max_pixels = parse_pixel_count(args.max_pixels);
  cap_decoded_pixels(batch.read.max_pixels);
  // Found by hand: a budget below what any image needs passed, and then
  // every image failed.
  batch.max_memory =
      args.max_memory.empty()
          ? default_memory_budget()
          : parse_memory_size(args.max_memory, available_memory(),
                              least_memory_budget(args.path, run_info(args).scale),
                              "the libraries, the weights and a 64x64 image, the smallest piece "
                              "an image is split into");
  // A file is read whole before it is decoded: one larger than the batch's
  // share of the budget for images in flight is refused unread.
  batch.read.file.max_bytes = batch.max_memory / 2;
  batch.read.file.max_bytes_reason =
      "half the memory budget (" + format_bytes(batch.max_memory) + ", --max-memory)";
  batch.overwrite = args.overwrite;
  batch.keep_metadata = args.metadata == "keep";
  batch.mode = args.mode;
  batch.size.factor = args.outscale;
  batch.size.width = args.width;
  batch.size.height = args.height;
  if (args.quality > 0) batch.write.quality = args.quality;
  batch.stop = stop_requested;
  batch.temp_files.created = register_temp_file;
  batch.temp_files.finished = unregister_temp_file;
  return batch;
}

// The exit code for the results, and the --json report.
int finish_run(const UpscaleArgs& args, const std::string& shard,
               std::chrono::steady_clock::time_point start, const std::vector<FileResult>& results,
               bool interrupted) {
  int code = kExitOk;
  for (const auto& r : results) {
    if (r.status == FileStatus::Failed) code = kExitFailed;
  }
  if (interrupted) code = kExitInterrupted;
  if (args.json) {
    RunInfo run = run_info(args);
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    run.interrupted = interrupted;
    run.exit_code = code;
    run.shard = shard;
    write_json(args, json_report(run, results));
  }
  return code;
}

int upscale(const UpscaleArgs& args, StatusLineSink* status_line) {
  const auto start = std::chrono::steady_clock::now();
  // Everything that can be checked without the weights, first.
  if (!args.shard.empty() && std::any_of(args.inputs.begin(), args.inputs.end(), is_stream)) {
    // Found by hand: shard 1/2 of -i - dropped the one image, and exit 0.
    throw InvalidArgument("--shard splits a list of files: standard input (-i -) is one stream");
  }
  JobList list = list_jobs(job_request(args));
  // Sharding after planning: the collision checks above saw every input.
  const Shard shard = parse_shard(args.shard);
  if (!shard.all()) {
    const size_t total = keep_shard(
        list.jobs, shard, [](const Job& job) -> const std::string& { return job.display; });
    spdlog::info("shard {}: {} of {} inputs", shard.text(), list.jobs.size(), total);
  }
  note_left_out(list.ignored, "file", "not an image by its name");
  note_left_out(list.hidden, "hidden image", "a name starting with '.'");
  note_left_out(list.not_descended, "sub-folder", "-r descends into sub-folders");
  for (const auto& s : list.skipped) spdlog::warn("{}", s);
  for (const auto& s : list.unused_options) spdlog::warn("{}", s);
  const BatchOptions batch = batch_options(args);
  if (list.jobs.empty() && shard.all()) {
    // An empty shard is normal; an empty batch deserves a word.
    spdlog::warn("no images to upscale in {}", fmt::join(args.inputs, ", "));
  }
  const UpscalerOptions options = upscaler_options(args, batch.max_memory);
  // What could not be read in the folders fails the run as unreadable files do.
  std::vector<FileResult> results;
  for (const auto& job : list.unreadable) {
    FileResult& r = results.emplace_back();
    r.job = job;
    r.status = FileStatus::Failed;
    r.error = job.input + ": " + job.problem;
    spdlog::error("{}", r.error);
  }
  bool interrupted = false;
  if (!list.jobs.empty()) {
    Upscaler upscaler(options);
    BatchOptions run = batch;
    const int threads = upscaler.threads();
    if (args.side_by_side == "auto" && options.path == Path::Engine && threads > 1 &&
        list.jobs.size() > 1) {
      run.side_by_side = threads;
      run.side_by_side_pixels = kSideBySidePixels;
    }
    spdlog::debug("weights {} (x{}), {} path, memory budget {}", upscaler.weights_path(),
                  upscaler.scale(), to_string(options.path), format_bytes(batch.max_memory));
    if (run.side_by_side > 1) {
      spdlog::debug(
          "images of up to {} LR pixels run side by side, {} at once on 1 thread each; "
          "larger ones one at a time on {} threads",
          run.side_by_side_pixels, run.side_by_side, threads);
    } else {
      spdlog::debug("images run one at a time on {} thread{}", threads, threads == 1 ? "" : "s");
    }
    // After the weights: a run that cannot load them leaves nothing behind.
    // Outputs written in place (a FIFO, /dev/null) need no writable folder.
    const bool needs_folder = std::any_of(list.jobs.begin(), list.jobs.end(), [](const Job& j) {
      return !is_stream(j.output) && inspect_path(j.output).kind != PathKind::Stream;
    });
    if (needs_folder) check_output_folder(list.output_folder);
    Reporter reporter(list.jobs.size(), status_line, threads);
    const std::vector<FileResult> done = run_batch(upscaler, list.jobs, run, reporter);
    results.insert(results.end(), done.begin(), done.end());
    interrupted = stop_requested();
    reporter.summary(results, interrupted);
  }
  return finish_run(args, shard.text(), start, results, interrupted);
}

// --frames: standard input to standard output, frame by frame.
int upscale_frames(const UpscaleArgs& args, StatusLineSink* status_line) {
  const auto start = std::chrono::steady_clock::now();
  if (args.inputs != std::vector<std::string>{"-"} || args.output != "-") {
    throw InvalidArgument(
        "--frames reads standard input and writes standard output: use -i - -o -");
  }
  if (args.recursive || !args.shard.empty()) {
    throw InvalidArgument("--frames takes one stream: -r and --shard do not apply");
  }
  // The stream job of -i - -o -: its output format (-f, PNG by default)
  // checked as for one image through a pipe.
  const JobList list = list_jobs(job_request(args));
  for (const auto& s : list.unused_options) spdlog::warn("{}", s);
  const BatchOptions batch = batch_options(args);
  FrameOptions frames;
  frames.read = batch.read;
  frames.write = batch.write;
  frames.format = list.jobs.front().format;
  frames.mode = batch.mode;
  frames.size = batch.size;
  frames.stop = batch.stop;
  Upscaler upscaler(upscaler_options(args, batch.max_memory));
  spdlog::debug("weights {} (x{}), frames on {} threads", upscaler.weights_path(), upscaler.scale(),
                upscaler.threads());
  FrameProgress progress(args.frame_count, status_line);
  const std::vector<FileResult> results =
      run_frames(upscaler, STDIN_FILENO, STDOUT_FILENO, frames, progress);
  const bool interrupted = stop_requested();
  progress.summary(results, interrupted);
  return finish_run(args, "0/1", start, results, interrupted);
}

int run_command(const UpscaleArgs& args, StatusLineSink* status_line) {
  // The cores, not OMP_NUM_THREADS (which -j overrides).
  if (args.threads > most_threads()) {
    throw InvalidArgument("-j " + std::to_string(args.threads) +
                          ": more than 4 threads per core (" + std::to_string(available_cores()) +
                          " cores here) only slows the network down");
  }
  return args.frames ? upscale_frames(args, status_line) : upscale(args, status_line);
}

}  // namespace

int run_upscale(const UpscaleArgs& args, StatusLineSink* status_line) {
  try {
    return run_command(args, status_line);
  } catch (const std::exception& e) {
    // A script reading --json gets a document whatever happened: the error
    // and the exit code main will return for it.
    if (args.json) write_error_json(args, exit_code_for(e), e.what());
    throw;
  }
}

void write_error_json(const UpscaleArgs& args, int exit_code, const std::string& error) {
  RunInfo run = run_info(args);
  run.exit_code = exit_code;
  run.interrupted = exit_code == kExitInterrupted;
  run.error = error;
  write_json(args, json_report(run, {}));
}

}  // namespace fdiwn::cli
