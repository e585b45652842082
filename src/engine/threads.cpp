#include "engine/threads.hpp"

#include <ATen/Parallel.h>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace fdiwn::engine {

// LibTorch sets a thread's count the first time it runs parallel work there
// (to its process-wide default): done first, so that it does not undo ours.
// at::set_num_threads is not used: it also changes that process-wide default
// and resizes a process-wide pool.
CallingThreadThreads::CallingThreadThreads(int threads) {
  at::internal::lazy_init_num_threads();
  saved_ = at::get_num_threads();
#ifdef _OPENMP
  omp_set_num_threads(threads);
#else
  // A build without OpenMP (the sanitizer build) has no per-thread setting.
  at::set_num_threads(threads);
#endif
}

CallingThreadThreads::~CallingThreadThreads() {
#ifdef _OPENMP
  omp_set_num_threads(saved_);
#else
  at::set_num_threads(saved_);
#endif
}

}  // namespace fdiwn::engine
