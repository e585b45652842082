// What the batch's stages share: running them, a bounded hand-over between two stages,
// the memory held by images in flight, and the turns of images run side by
// side.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace fdiwn::cli {

/// Runs a pipeline's three stages: `read` and `write` on threads of their
/// own, `upscale` on this one (it closes the hand-over to `write` when it is
/// done, as `read` closes its own). Returns when all three have.
template <class Read, class Upscale, class Write>
void run_stages(Read&& read, Upscale&& upscale, Write&& write) {
  std::thread reader(std::forward<Read>(read));
  std::thread writer(std::forward<Write>(write));
  upscale();
  reader.join();
  writer.join();
}

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
  MemoryGate(size_t limit, const std::function<bool()>& stop) : limit_(limit), stop_(stop) {}
  void acquire(size_t bytes) {
    std::unique_lock<std::mutex> lock(m_);
    while (held_ != 0 && held_ + bytes > limit_ && !stop_()) {
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
  std::function<bool()> stop_;
  size_t held_ = 0;
};

// Bytes held in a MemoryGate by one image in flight, given back when the
// hold goes, whichever way the image leaves the pipeline.
class MemoryHold {
 public:
  MemoryHold() = default;
  /// Waits until `bytes` fit beside what the gate holds, then holds them.
  static MemoryHold acquire(MemoryGate& gate, size_t bytes) {
    gate.acquire(bytes);
    return MemoryHold(gate, bytes);
  }
  /// Counts bytes that are already allocated (no waiting).
  static MemoryHold hold(MemoryGate& gate, size_t bytes) {
    gate.hold(bytes);
    return MemoryHold(gate, bytes);
  }
  MemoryHold(MemoryHold&& o) noexcept : gate_(o.gate_), bytes_(o.bytes_) { o.gate_ = nullptr; }
  MemoryHold& operator=(MemoryHold&& o) noexcept {
    if (this != &o) {
      release();
      gate_ = o.gate_;
      bytes_ = o.bytes_;
      o.gate_ = nullptr;
    }
    return *this;
  }
  MemoryHold(const MemoryHold&) = delete;
  MemoryHold& operator=(const MemoryHold&) = delete;
  ~MemoryHold() { release(); }

  size_t bytes() const { return gate_ ? bytes_ : 0; }
  /// Gives back what is held beyond `bytes`.
  void shrink_to(size_t bytes) {
    if (gate_ && bytes_ > bytes) {
      gate_->release(bytes_ - bytes);
      bytes_ = bytes;
    }
  }
  void release() {
    if (gate_) gate_->release(bytes_);
    gate_ = nullptr;
  }

 private:
  MemoryHold(MemoryGate& gate, size_t bytes) : gate_(&gate), bytes_(bytes) {}
  MemoryGate* gate_ = nullptr;
  size_t bytes_ = 0;
};

// Turns on the network when images run side by side: small images run
// together (one thread each); a large one waits until none runs and then
// runs alone on every thread, small ones waiting meanwhile (so that a stream
// of small images cannot hold a large one back for ever).
class SideBySideGate {
 public:
  void enter(bool alone) {
    std::unique_lock<std::mutex> lock(m_);
    if (alone) {
      ++waiting_alone_;
      cv_.wait(lock, [&] { return sharing_ == 0 && !alone_; });
      --waiting_alone_;
      alone_ = true;
    } else {
      cv_.wait(lock, [&] { return !alone_ && waiting_alone_ == 0; });
      ++sharing_;
    }
  }
  void leave(bool alone) {
    std::lock_guard<std::mutex> lock(m_);
    if (alone) {
      alone_ = false;
    } else {
      --sharing_;
    }
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int sharing_ = 0;
  int waiting_alone_ = 0;
  bool alone_ = false;
};

/// Holds a turn of a SideBySideGate for a scope.
class SideBySideTurn {
 public:
  SideBySideTurn(SideBySideGate& gate, bool alone) : gate_(gate), alone_(alone) {
    gate_.enter(alone_);
  }
  ~SideBySideTurn() { gate_.leave(alone_); }
  SideBySideTurn(const SideBySideTurn&) = delete;
  SideBySideTurn& operator=(const SideBySideTurn&) = delete;

 private:
  SideBySideGate& gate_;
  bool alone_;
};

}  // namespace fdiwn::cli
