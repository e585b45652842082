#include "batch.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <new>
#include <optional>
#include <thread>

#include "fdiwn/errors.hpp"
#include "signals.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

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

// A bounded hand-over between two pipeline stages.
template <class T>
class Channel {
 public:
  explicit Channel(size_t capacity) : capacity_(capacity) {}
  void push(T value) {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return q_.size() < capacity_; });
    q_.push_back(std::move(value));
    cv_.notify_all();
  }
  std::optional<T> pop() {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return std::nullopt;
    T v = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return v;
  }
  void close() {
    std::lock_guard<std::mutex> lock(m_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<T> q_;
  size_t capacity_;
  bool closed_ = false;
};

// Bytes held by images in flight (decoded inputs, finished outputs). The
// reader waits before decoding another image until it fits beside them; an
// image that does not fit even alone is let through once nothing else is
// held, so one large image always proceeds on its own.
class MemoryGate {
 public:
  explicit MemoryGate(size_t limit) : limit_(limit) {}
  void acquire(size_t bytes) {
    std::unique_lock<std::mutex> lock(m_);
    while (held_ != 0 && held_ + bytes > limit_ && !stop_requested()) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
    held_ += bytes;
  }
  /// Counts bytes that are already allocated (no waiting).
  void hold(size_t bytes) {
    std::lock_guard<std::mutex> lock(m_);
    held_ += bytes;
  }
  void release(size_t bytes) {
    std::lock_guard<std::mutex> lock(m_);
    held_ -= std::min(bytes, held_);
    cv_.notify_all();
  }
  size_t held() {
    std::lock_guard<std::mutex> lock(m_);
    return held_;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  size_t limit_;
  size_t held_ = 0;
};

size_t decoded_bytes(const ImageProbe& p) {
  const size_t bytes_per_value = p.bit_depth > 8 ? 2 : 1;
  return static_cast<size_t>(p.width) * p.height * std::max(p.channels, 3) * bytes_per_value;
}

struct Decoded {
  size_t index = 0;
  cv::Mat pixels;
  size_t held = 0;
  Clock::time_point start;
  FileResult result;
};

struct Upscaled {
  size_t index = 0;
  cv::Mat pixels;
  size_t held = 0;
  Clock::time_point start;
  FileResult result;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The message of any exception, for a per-file failure.
std::string describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    return "out of memory";
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown error";
  }
}

class Batch {
 public:
  Batch(Upscaler& upscaler, const std::vector<Job>& jobs, const BatchOptions& options,
        BatchObserver& observer)
      : upscaler_(upscaler),
        jobs_(jobs),
        options_(options),
        observer_(observer),
        gate_(options.max_memory / 2),
        results_(jobs.size()) {
    for (size_t i = 0; i < jobs.size(); ++i) {
      results_[i].job = jobs[i];
      results_[i].error = "not processed: interrupted";
    }
  }

  std::vector<FileResult> run() {
    std::thread reader([this] { read_all(); });
    std::thread writer([this] { write_all(); });
    upscale_all();
    reader.join();
    writer.join();
    return results_;
  }

 private:
  void finish(size_t index, FileResult result) {
    std::lock_guard<std::mutex> lock(observer_mutex_);
    results_[index] = std::move(result);
    observer_.finished(index, results_[index]);
  }

  void fail(size_t index, FileResult result, const std::exception_ptr& e) {
    result.status = FileStatus::Failed;
    result.error = describe(e);
    finish(index, std::move(result));
  }

  // Stage 1: skip what is done, decode the rest (one image ahead).
  void read_all() {
    for (size_t i = 0; i < jobs_.size() && !stop_requested(); ++i) {
      FileResult r;
      r.job = jobs_[i];
      std::error_code ec;
      if (!options_.overwrite && fs::exists(jobs_[i].output, ec)) {
        r.status = FileStatus::Skipped;
        r.error = "the output exists (--overwrite to redo it)";
        finish(i, std::move(r));
        continue;
      }
      Decoded d;
      d.index = i;
      d.start = Clock::now();
      ReadOptions read = options_.read;
      read.on_header = [&](const ImageProbe& probe) {
        d.held = decoded_bytes(probe);
        gate_.acquire(d.held);
      };
      try {
        LoadedImage image = read_image(jobs_[i].input, read);
        d.pixels = std::move(image.pixels);
        r.notes = std::move(image.notes);
        r.input_size = d.pixels.size();
        r.channels = d.pixels.channels();
        r.bit_depth = d.pixels.depth() == CV_16U ? 16 : 8;
      } catch (...) {
        gate_.release(d.held);
        fail(i, std::move(r), std::current_exception());
        continue;
      }
      d.result = std::move(r);
      decoded_.push(std::move(d));
    }
    decoded_.close();
  }

  // Stage 2 (this thread): the network, one image at a time.
  void upscale_all() {
    while (auto d = decoded_.pop()) {
      FileResult& r = d->result;
      if (stop_requested()) {
        gate_.release(d->held);
        r.error = "not processed: interrupted";
        finish(d->index, std::move(r));
        continue;
      }
      // Whatever the other stages hold is not available to the network.
      const size_t others = gate_.held() - std::min(gate_.held(), d->held);
      upscaler_.set_memory_budget(std::max(
          options_.max_memory / 4, options_.max_memory - std::min(others, options_.max_memory)));
      cv::Mat out;
      try {
        const auto start = Clock::now();
        const RunPlan plan = upscaler_.plan(d->pixels.size(), d->pixels.channels(), options_.mode);
        {
          std::lock_guard<std::mutex> lock(observer_mutex_);
          observer_.started(d->index, jobs_[d->index], d->pixels.size(), plan);
        }
        out = upscaler_.upscale(d->pixels, options_.mode, [this](double f) {
          if (stop_requested()) throw Cancelled();
          std::lock_guard<std::mutex> lock(observer_mutex_);
          observer_.progress(f);
        });
        r.upscale_seconds = seconds_since(start);
      } catch (const Cancelled&) {
        gate_.release(d->held);
        r.error = "not finished: interrupted";
        finish(d->index, std::move(r));
        continue;
      } catch (...) {
        gate_.release(d->held);
        fail(d->index, std::move(r), std::current_exception());
        continue;
      }
      gate_.release(d->held);
      d->pixels.release();
      Upscaled u;
      u.index = d->index;
      u.held = out.total() * out.elemSize();
      gate_.hold(u.held);
      u.pixels = std::move(out);
      u.start = d->start;
      u.result = std::move(r);
      u.result.output_size = u.pixels.size();
      upscaled_.push(std::move(u));
    }
    upscaled_.close();
  }

  // Stage 3: encode and write atomically (finishes what it has even after a
  // stop signal: the result is complete, only its writing remains).
  void write_all() {
    while (auto u = upscaled_.pop()) {
      FileResult& r = u->result;
      try {
        const Job& job = jobs_[u->index];
        const std::string ext = fs::path(job.output).extension().string();
        const cv::Mat fitted = fit_to_format(u->pixels, ext, &r.notes);
        const auto bytes = encode_image(fitted, ext, options_.write, job.output);
        const fs::path parent = fs::path(job.output).parent_path();
        std::error_code ec;
        if (!parent.empty() && !fs::is_directory(parent, ec)) {
          fs::create_directories(parent, ec);
          if (ec) throw ImageError(job.output, "cannot create the folder: " + ec.message());
        }
        TempFileHooks hooks;
        hooks.created = register_temp_file;
        hooks.finished = unregister_temp_file;
        write_file_atomic(job.output, bytes, &hooks);
        r.status = FileStatus::Done;
        r.error.clear();
      } catch (...) {
        r.seconds = seconds_since(u->start);
        gate_.release(u->held);
        fail(u->index, std::move(r), std::current_exception());
        continue;
      }
      r.seconds = seconds_since(u->start);
      gate_.release(u->held);
      finish(u->index, std::move(r));
    }
  }

  Upscaler& upscaler_;
  const std::vector<Job>& jobs_;
  const BatchOptions& options_;
  BatchObserver& observer_;
  std::mutex observer_mutex_;
  MemoryGate gate_;
  Channel<Decoded> decoded_{1};
  Channel<Upscaled> upscaled_{1};
  std::vector<FileResult> results_;
};

}  // namespace

std::vector<FileResult> run_batch(Upscaler& upscaler, const std::vector<Job>& jobs,
                                  const BatchOptions& options, BatchObserver& observer) {
  return Batch(upscaler, jobs, options, observer).run();
}

}  // namespace fdiwn::cli
