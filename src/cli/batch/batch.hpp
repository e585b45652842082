// Running many upscale jobs: decoding the next image and encoding the
// previous one overlap with the network, within a memory budget.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core/types.hpp>

#include "cli/batch/jobs.hpp"
#include "cli/batch/output_size.hpp"
#include "fdiwn/files.hpp"
#include "fdiwn/image_io.hpp"
#include "fdiwn/upscaler.hpp"

namespace fdiwn::cli {

enum class FileStatus { Done, Skipped, Failed, Cancelled };
const char* to_string(FileStatus status);

struct FileResult {
  Job job;
  FileStatus status = FileStatus::Cancelled;
  std::string error;  ///< why it failed, or was skipped / cancelled
  cv::Size input_size, output_size;
  int channels = 0;            ///< of the decoded input
  int bit_depth = 0;           ///< 8 or 16
  double seconds = 0;          ///< read start to output written
  double upscale_seconds = 0;  ///< the network alone
  int threads = 0;             ///< threads the network ran on (1: side by side with others)
  int passes = 0;              ///< network passes (2 for --outscale beyond the scale)
  bool resized = false;        ///< the network's result resized to the asked size
  std::vector<std::string> notes;
};

struct BatchOptions {
  ReadOptions read;
  WriteOptions write;
  bool overwrite = false;
  /// Carry each input's EXIF, ICC profile, XMP and IPTC into its output.
  bool keep_metadata = true;
  Mode mode = Mode::Auto;
  /// --outscale, --width, --height: passes of the network, then an area
  /// resize to the exact size.
  OutputSize size;
  std::size_t max_memory = 0;  ///< bytes for everything the batch holds
  /// Up to this many images run side by side, one thread each (each on a
  /// single-thread copy of the Upscaler, made when first needed), if they
  /// have at most `side_by_side_pixels` LR pixels; a larger one waits for
  /// them and runs alone on all the Upscaler's threads. 1: one at a time.
  int side_by_side = 1;
  int64_t side_by_side_pixels = 0;
  /// Polled between files and while reading and upscaling one; true cancels
  /// what is left (the file being written is finished).
  std::function<bool()> stop = [] { return false; };
  /// Told of each temporary output file while it exists (the CLI removes
  /// them if a signal ends the process).
  TempFileHooks temp_files;
};

/// What the batch reports, from its three threads (calls are serialised).
class BatchObserver {
 public:
  virtual ~BatchObserver() = default;
  /// The network starts on job `index`, on `threads` threads (1 when it
  /// runs side by side with others).
  virtual void started(size_t index, const Job& job, cv::Size size, const RunPlan& plan,
                       int threads) = 0;
  /// Fraction of the current job's network work done (not reported for
  /// images run side by side).
  virtual void progress(double fraction) = 0;
  /// Job `index` is over (done, skipped, failed or cancelled).
  virtual void finished(size_t index, const FileResult& result) = 0;
};

/// Fails early, with one message (an ImageError), if the output folder
/// cannot be created or written, rather than failing every file after its
/// upscale.
void check_output_folder(const std::string& dir);

/// Runs the jobs in order (finishing out of order when side by side); one failure does not stop the
/// others (any exception becomes that file's one-line error); `options.stop` cancels the rest. An
/// output that exists is skipped unless `overwrite`; one that is a folder or cannot be written
/// fails; a FIFO or /dev/null is written in place. Returns one result per job.
std::vector<FileResult> run_batch(Upscaler& upscaler, const std::vector<Job>& jobs,
                                  const BatchOptions& options, BatchObserver& observer);

}  // namespace fdiwn::cli
