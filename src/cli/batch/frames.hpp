// A stream of video frames (--frames): binary PNM frames read from standard
// input, each upscaled on all threads and written to standard output in
// order; reading the next frame and writing the last one overlap with the
// network, as in a batch. The stream ends at its end, at the first frame
// that cannot be read, upscaled or written, or when `stop` says so: every
// frame written before that is whole.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core/types.hpp>

#include "cli/batch/batch.hpp"
#include "cli/batch/output_size.hpp"
#include "fdiwn/image_io.hpp"
#include "fdiwn/upscaler.hpp"

namespace fdiwn::cli {

struct FrameOptions {
  ReadOptions read;  ///< max_pixels per frame
  WriteOptions write;
  std::string format = "png";  ///< of the frames written (extension, no dot)
  Mode mode = Mode::Auto;
  OutputSize size;
  /// Polled while reading and upscaling; true ends the stream after the
  /// frames already upscaled are written.
  std::function<bool()> stop = [] { return false; };
};

/// What a frame stream reports, from its three threads (calls are serialised).
class FrameObserver {
 public:
  virtual ~FrameObserver() = default;
  /// The network starts on frame `number` (from 1).
  virtual void started(int64_t number, cv::Size size) = 0;
  /// Fraction of the current frame's network work done.
  virtual void progress(double fraction) = 0;
  /// A frame is over: written, failed or cancelled; or the stream could not
  /// be read at that frame (failed).
  virtual void finished(int64_t number, const FileResult& result) = 0;
};

/// Runs the stream from `input_fd` to `output_fd`. Returns one result per
/// frame that was read, and one for a frame that could not be.
std::vector<FileResult> run_frames(Upscaler& upscaler, int input_fd, int output_fd,
                                   const FrameOptions& options, FrameObserver& observer);

}  // namespace fdiwn::cli
