#include "cli/batch/frames.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <utility>

#include "cli/batch/pipeline.hpp"
#include "cli/batch/upscale_passes.hpp"
#include "cli/report/failure.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"
#include "fdiwn/frame_stream.hpp"

namespace fdiwn::cli {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kInput = "standard input";
constexpr const char* kOutput = "standard output";

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Frame {
  int64_t number = 0;
  cv::Mat pixels;
  Clock::time_point start;
  FileResult result;
};

class FrameRun {
 public:
  FrameRun(Upscaler& upscaler, int input_fd, int output_fd, const FrameOptions& options,
           FrameObserver& observer)
      : upscaler_(upscaler),
        input_fd_(input_fd),
        output_fd_(output_fd),
        options_(options),
        observer_(observer),
        extension_("." + options.format) {}

  std::vector<FileResult> run() {
    run_stages([this] { read_all(); }, [this] { upscale_all(); }, [this] { write_all(); });
    // A frame that could not be read is reported before the frames ahead of
    // it are written: the results in frame order.
    std::stable_sort(results_.begin(), results_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<FileResult> results;
    for (auto& r : results_) results.push_back(std::move(r.second));
    return results;
  }

 private:
  // Stopped by the user, or ended by a frame that failed: a frame missing
  // from the middle of a video would shift every frame after it.
  bool stopped() const { return ended_ || options_.stop(); }

  void finish(int64_t number, FileResult result) {
    std::lock_guard<std::mutex> lock(observer_mutex_);
    results_.emplace_back(number, std::move(result));
    observer_.finished(number, results_.back().second);
  }

  // `end`: the frames read after this one are not upscaled (those before it
  // still are, when it could not be read).
  void fail(Frame& f, const std::exception_ptr& e, const std::string& where, bool end = true) {
    if (end) ended_ = true;
    f.result.status = FileStatus::Failed;
    f.result.error = describe_failure(e, where);
    f.result.seconds = seconds_since(f.start);
    finish(f.number, std::move(f.result));
  }

  void cancel(Frame& f) {
    f.result.status = FileStatus::Cancelled;
    f.result.error = "not finished: the stream was stopped";
    finish(f.number, std::move(f.result));
  }

  static FileResult result_for(int64_t number) {
    FileResult r;
    r.job.input = "-";
    r.job.output = "-";
    r.job.display = std::string(kInput) + ", frame " + std::to_string(number);
    r.error = "not processed: interrupted";
    return r;
  }

  // Stage 1: one frame ahead of the network.
  void read_all() {
    ReadOptions read = options_.read;
    read.file.stop = [this] { return stopped(); };
    FrameReader reader(input_fd_, kInput, read);
    while (!stopped()) {
      Frame f;
      f.number = reader.frames() + 1;
      f.start = Clock::now();
      f.result = result_for(f.number);
      try {
        std::optional<cv::Mat> pixels = reader.next();
        if (!pixels) break;
        f.pixels = std::move(*pixels);
        if (f.number == 1) {
          // Refused before any work if the result cannot be written.
          check_encodable(
              extension_,
              plan_size(options_.size, f.pixels.size(), upscaler_.scale(), f.result.job.display)
                  .target,
              kOutput);
        }
      } catch (const Cancelled&) {
        break;
      } catch (...) {
        fail(f, std::current_exception(), f.result.job.display, false);
        break;
      }
      f.result.input_size = f.pixels.size();
      f.result.channels = f.pixels.channels();
      f.result.bit_depth = f.pixels.depth() == CV_16U ? 16 : 8;
      decoded_.push(std::move(f));
    }
    decoded_.close();
  }

  // Stage 2, on this thread: the network, on all the Upscaler's threads.
  void upscale_all() {
    while (auto f = decoded_.pop()) {
      if (stopped()) {
        cancel(*f);
        continue;
      }
      FileResult& r = f->result;
      try {
        const SizePlan plan =
            plan_size(options_.size, f->pixels.size(), upscaler_.scale(), r.job.display);
        {
          std::lock_guard<std::mutex> lock(observer_mutex_);
          observer_.started(f->number, f->pixels.size());
        }
        const auto start = Clock::now();
        r.threads = upscaler_.threads();
        f->pixels = upscale_to_plan(
            upscaler_, f->pixels, plan, options_.mode,
            [&](double fraction) {
              if (stopped()) throw Cancelled();
              std::lock_guard<std::mutex> lock(observer_mutex_);
              observer_.progress(fraction);
            },
            r.notes);
        r.upscale_seconds = seconds_since(start);
        r.passes = plan.passes;
        r.resized = plan.resize;
        r.output_size = f->pixels.size();
      } catch (const Cancelled&) {
        cancel(*f);
        continue;
      } catch (...) {
        fail(*f, std::current_exception(), r.job.display);
        continue;
      }
      upscaled_.push(std::move(*f));
    }
    upscaled_.close();
  }

  // Stage 3: every frame upscaled is written, even after a stop request,
  // unless the output itself failed.
  void write_all() {
    while (auto f = upscaled_.pop()) {
      if (output_failed_) {
        cancel(*f);
        continue;
      }
      FileResult& r = f->result;
      try {
        const cv::Mat fitted = fit_to_format(f->pixels, extension_, &r.notes);
        write_stream(output_fd_, kOutput,
                     encode_image(fitted, extension_, options_.write, kOutput, nullptr, &r.notes));
      } catch (...) {
        output_failed_ = true;
        fail(*f, std::current_exception(), kOutput);
        continue;
      }
      r.status = FileStatus::Done;
      r.error.clear();
      r.seconds = seconds_since(f->start);
      finish(f->number, std::move(r));
    }
  }

  Upscaler& upscaler_;
  int input_fd_, output_fd_;
  const FrameOptions& options_;
  FrameObserver& observer_;
  const std::string extension_;
  std::mutex observer_mutex_;
  std::atomic<bool> ended_{false};
  std::atomic<bool> output_failed_{false};
  Channel<Frame> decoded_{1};
  Channel<Frame> upscaled_{1};
  std::vector<std::pair<int64_t, FileResult>> results_;  // frame number, result
};

}  // namespace

std::vector<FileResult> run_frames(Upscaler& upscaler, int input_fd, int output_fd,
                                   const FrameOptions& options, FrameObserver& observer) {
  return FrameRun(upscaler, input_fd, output_fd, options, observer).run();
}

}  // namespace fdiwn::cli
