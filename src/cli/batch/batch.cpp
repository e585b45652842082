#include "cli/batch/batch.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <new>
#include <thread>

#include "cli/batch/pipeline.hpp"
#include "cli/batch/upscale_passes.hpp"
#include "cli/report/failure.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"
#include "fdiwn/metadata.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Fails early, with one message, if the output folder cannot be created or
// written (rather than failing every file after its upscale).
void check_output_folder(const std::string& dir) {
  const fs::path d = dir.empty() ? fs::path(".") : fs::path(dir);
  std::error_code ec;
  fs::create_directories(d, ec);
  if (ec) {
    // Found by hand: a dangling link said "File exists".
    const PathInfo info = inspect_path(d.string());
    const bool named = info.kind == PathKind::Unusable && !info.reason.empty();
    throw ImageError(d.string(), named ? info.reason + ": cannot create the output folder there"
                                       : "cannot create the output folder: " + ec.message());
  }
  std::string probe = (d / ".fdiwn-write-test-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) {
    throw ImageError(d.string(),
                     std::string("cannot write in the output folder: ") + std::strerror(errno));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

const char* to_string(FileStatus status) {
  switch (status) {
    case FileStatus::Done:
      return "done";
    case FileStatus::Skipped:
      return "skipped";
    case FileStatus::Failed:
      return "failed";
    case FileStatus::Cancelled:
      break;
  }
  return "cancelled";
}

namespace {

// A path for messages: "-" as the stream it stands for.
std::string where(const std::string& path, const char* stream) {
  return is_stream(path) ? stream : path;
}

// The extension that names the output's format: -f's for standard output.
std::string output_extension(const Job& job) {
  return job.format.empty() ? fs::path(job.output).extension().string() : "." + job.format;
}

// An image between two stages (decoded, then upscaled): its pixels, and the
// memory it holds in the gate until it leaves the pipeline.
struct InFlight {
  size_t index = 0;
  cv::Mat pixels;
  MemoryHold held;
  Clock::time_point start;
  FileResult result;
  ImageMetadata metadata;  ///< carried from the input to the output
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

class Batch {
 public:
  Batch(Upscaler& upscaler, const std::vector<Job>& jobs, const BatchOptions& options,
        BatchObserver& observer)
      : upscaler_(upscaler),
        jobs_(jobs),
        options_(options),
        observer_(observer),
        gate_(options.max_memory / 2, options.stop),
        results_(jobs.size()) {
    for (size_t i = 0; i < jobs.size(); ++i) {
      results_[i].job = jobs[i];
      results_[i].error = "not processed: interrupted";
    }
  }

  std::vector<FileResult> run() {
    run_stages([this] { read_all(); }, [this] { upscale_all(); }, [this] { write_all(); });
    return results_;
  }

 private:
  void finish(size_t index, FileResult result) {
    std::lock_guard<std::mutex> lock(observer_mutex_);
    results_[index] = std::move(result);
    observer_.finished(index, results_[index]);
  }

  // `file` is named in the message if the exception does not name it.
  void fail(size_t index, FileResult result, const std::exception_ptr& e, const std::string& file) {
    result.status = FileStatus::Failed;
    result.error = describe_failure(e, file);
    finish(index, std::move(result));
  }

  void cancel(size_t index, FileResult result, const char* why) {
    result.status = FileStatus::Cancelled;
    result.error = why;
    finish(index, std::move(result));
  }

  // Whether job `i` is to be read: false if it is already finished (its
  // output exists, or cannot be written).
  bool check_output(size_t i, FileResult& r) {
    const Job& job = jobs_[i];
    const auto refuse = [&](const std::string& why) {
      fail(i, std::move(r), std::make_exception_ptr(ImageError(job.output, why)), job.output);
    };
    if (!job.problem.empty()) {
      refuse(job.problem);
      return false;
    }
    if (is_stream(job.output)) return true;
    const PathInfo out = inspect_path(job.output);
    switch (out.kind) {
      case PathKind::Regular:
        if (options_.overwrite) return true;
        r.status = FileStatus::Skipped;
        r.error = "the output exists (--overwrite to redo it)";
        finish(i, std::move(r));
        return false;
      case PathKind::Directory:
        refuse("the output path is a folder; nothing was written");
        return false;
      case PathKind::Unusable:
        refuse(out.reason + "; nothing was written");
        return false;
      case PathKind::Missing:
      case PathKind::Stream:  // written in place (a FIFO, /dev/null): never "done" already
        return true;
    }
    return true;
  }

  // Stage 1: skip what is done, decode the rest (one image ahead).
  void read_all() {
    for (size_t i = 0; i < jobs_.size() && !options_.stop(); ++i) {
      FileResult r;
      r.job = jobs_[i];
      if (!check_output(i, r)) continue;
      InFlight d;
      d.index = i;
      d.start = Clock::now();
      ReadOptions read = options_.read;
      read.file.stop = options_.stop;
      read.metadata = options_.keep_metadata;
      const std::string ext = output_extension(jobs_[i]);
      read.on_header = [&](const ImageProbe& probe, std::size_t bytes_needed) {
        // Refused before the work if the result cannot be written.
        const bool swapped = orientation_to_apply(probe) >= 5;
        const cv::Size shown(swapped ? probe.height : probe.width,
                             swapped ? probe.width : probe.height);
        check_encodable(ext,
                        plan_size(options_.size, shown, upscaler_.scale(), jobs_[i].input).target,
                        jobs_[i].output);
        d.held = MemoryHold::acquire(gate_, bytes_needed);
      };
      try {
        LoadedImage image = is_stream(jobs_[i].input)
                                ? read_image_stream(STDIN_FILENO, "standard input", read)
                                : read_image(jobs_[i].input, read);
        d.pixels = std::move(image.pixels);
        d.metadata = std::move(image.metadata);
        r.notes = std::move(image.notes);
        r.input_size = d.pixels.size();
        r.channels = d.pixels.channels();
        r.bit_depth = d.pixels.depth() == CV_16U ? 16 : 8;
      } catch (const Cancelled&) {
        cancel(i, std::move(r), "not processed: interrupted");
        continue;
      } catch (...) {
        fail(i, std::move(r), std::current_exception(), where(jobs_[i].input, "standard input"));
        continue;
      }
      // The file's bytes and the decoder's buffers are gone: only the pixels
      // are held from here on.
      d.held.shrink_to(d.pixels.total() * d.pixels.elemSize());
      d.result = std::move(r);
      decoded_.push(std::move(d));
    }
    decoded_.close();
  }

  // Stage 2 (this thread, or one thread per image side by side): the network.
  void upscale_all() {
    const int lanes = std::max(1, options_.side_by_side);
    if (lanes == 1) {
      upscale_lane(false);
    } else {
      std::vector<std::thread> threads;
      std::exception_ptr error;
      std::mutex error_mutex;
      for (int i = 0; i < lanes; ++i) {
        threads.emplace_back([&] {
          try {
            upscale_lane(true);
          } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
          }
        });
      }
      for (auto& t : threads) t.join();
      if (error) std::rethrow_exception(error);
    }
    upscaled_.close();
  }

  // One lane of stage 2. Side by side, small images go to this lane's own
  // single-thread Upscaler and large ones to the shared one, alone.
  void upscale_lane(bool side_by_side) {
    std::unique_ptr<Upscaler> own;
    while (auto d = decoded_.pop()) {
      FileResult& r = d->result;
      if (options_.stop()) {
        cancel(d->index, std::move(r), "not processed: interrupted");
        continue;
      }
      const bool small =
          side_by_side && static_cast<int64_t>(d->pixels.total()) <= options_.side_by_side_pixels;
      cv::Mat out;
      try {
        if (small && !own) {
          UpscalerOptions single = upscaler_.options();
          single.weights_path = upscaler_.weights_path();
          single.threads = 1;
          own = std::make_unique<Upscaler>(single);
        }
        Upscaler& upscaler = small ? *own : upscaler_;
        std::optional<SideBySideTurn> turn;
        if (side_by_side) turn.emplace(turns_, !small);
        // Whatever the other stages hold is not available to the network.
        const size_t others = gate_.held() - std::min(gate_.held(), d->held.bytes());
        upscaler.set_memory_budget(std::max(
            options_.max_memory / 4, options_.max_memory - std::min(others, options_.max_memory)));
        const auto start = Clock::now();
        const RunPlan plan = upscaler.plan(d->pixels.size(), d->pixels.channels(), options_.mode);
        if (options_.mode == Mode::Whole && plan.peak_bytes > options_.max_memory) {
          // -m whole asks for one pass whatever it costs; said, not refused.
          r.notes.push_back("one pass of the whole image needs about " +
                            std::to_string(plan.peak_bytes >> 20) + " MiB, more than the " +
                            std::to_string(options_.max_memory >> 20) +
                            " MiB memory budget (-m auto would split it)");
        }
        r.threads = upscaler.threads();
        {
          std::lock_guard<std::mutex> lock(observer_mutex_);
          observer_.started(d->index, jobs_[d->index], d->pixels.size(), plan, r.threads);
        }
        const SizePlan size =
            plan_size(options_.size, d->pixels.size(), upscaler.scale(), jobs_[d->index].input);
        out = upscale_to_plan(
            upscaler, d->pixels, size, options_.mode,
            [&](double f) {
              if (options_.stop()) throw Cancelled();
              if (small) return;
              std::lock_guard<std::mutex> lock(observer_mutex_);
              observer_.progress(f);
            },
            r.notes);
        r.passes = size.passes;
        r.resized = size.resize;
        r.upscale_seconds = seconds_since(start);
      } catch (const Cancelled&) {
        cancel(d->index, std::move(r), "not finished: interrupted");
        continue;
      } catch (...) {
        fail(d->index, std::move(r), std::current_exception(), jobs_[d->index].input);
        continue;
      }
      d->held.release();
      d->pixels.release();
      InFlight u;
      u.index = d->index;
      u.held = MemoryHold::hold(gate_, out.total() * out.elemSize());
      u.pixels = std::move(out);
      u.start = d->start;
      u.metadata = std::move(d->metadata);
      u.result = std::move(r);
      u.result.output_size = u.pixels.size();
      upscaled_.push(std::move(u));
    }
  }

  // Stage 3: encode and write atomically (finishes what it has even after a
  // stop signal: the result is complete, only its writing remains).
  void write_all() {
    while (auto u = upscaled_.pop()) {
      FileResult& r = u->result;
      try {
        const Job& job = jobs_[u->index];
        const std::string ext = output_extension(job);
        const cv::Mat fitted = fit_to_format(u->pixels, ext, &r.notes);
        const auto bytes =
            encode_image(fitted, ext, options_.write, job.output, &u->metadata, &r.notes);
        if (is_stream(job.output)) {
          write_stream(STDOUT_FILENO, "standard output", bytes);
        } else {
          const fs::path parent = fs::path(job.output).parent_path();
          std::error_code ec;
          if (!parent.empty() && !fs::is_directory(parent, ec)) {
            fs::create_directories(parent, ec);
            if (ec) throw ImageError(job.output, "cannot create the folder: " + ec.message());
          }
          write_file(job.output, bytes, &options_.temp_files);
        }
        r.status = FileStatus::Done;
        r.error.clear();
      } catch (...) {
        r.seconds = seconds_since(u->start);
        u->held.release();
        fail(u->index, std::move(r), std::current_exception(),
             where(jobs_[u->index].output, "standard output"));
        continue;
      }
      r.seconds = seconds_since(u->start);
      u->held.release();
      finish(u->index, std::move(r));
    }
  }

  Upscaler& upscaler_;
  const std::vector<Job>& jobs_;
  const BatchOptions& options_;
  BatchObserver& observer_;
  std::mutex observer_mutex_;
  MemoryGate gate_;
  SideBySideGate turns_;
  // Side by side, one decoded image waits per lane.
  Channel<InFlight> decoded_{static_cast<size_t>(std::max(1, options_.side_by_side))};
  Channel<InFlight> upscaled_{1};
  std::vector<FileResult> results_;
};

}  // namespace

std::vector<FileResult> run_batch(Upscaler& upscaler, const std::vector<Job>& jobs,
                                  const BatchOptions& options, BatchObserver& observer) {
  return Batch(upscaler, jobs, options, observer).run();
}

}  // namespace fdiwn::cli
