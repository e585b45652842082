// The threads one call runs on, set for the calling thread only.
#pragma once

namespace fdiwn::engine {

/// While it lives, LibTorch, oneDNN and the engine run the calling thread's
/// work on `threads` threads (OpenMP's per-thread setting; other threads
/// keep theirs). Restores the previous count when destroyed. This is what
/// lets two Upscalers run side by side on two threads, one core each.
class CallingThreadThreads {
 public:
  explicit CallingThreadThreads(int threads);
  ~CallingThreadThreads();
  CallingThreadThreads(const CallingThreadThreads&) = delete;
  CallingThreadThreads& operator=(const CallingThreadThreads&) = delete;

 private:
  int saved_;
};

}  // namespace fdiwn::engine
