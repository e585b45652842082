// What the library knows about its surroundings: where the bundled weights
// are, the cores and memory it may use, and the versions it runs on. Reading
// these changes nothing.
#pragma once

#include <cstddef>
#include <string>
#include "fdiwn/export.hpp"

FDIWN_API_BEGIN
namespace fdiwn {

/// Where the bundled weights for `scale` are: $FDIWN_WEIGHTS_DIR if set,
/// else `<dir of the running binary>/../share/fdiwn/weights`, which holds in
/// both the build tree and an installed tree. Returns the path it would use
/// even if the file is missing (the loader then names it in its error).
std::string default_weights_path(int scale);

/// The cores this process may run on (its CPU affinity mask).
int available_cores();

/// Threads the library uses when options ask for 0: OMP_NUM_THREADS where it
/// is a count from 1 to 4 per core (its first value, as OpenMP reads it),
/// else the cores this process may run on.
int default_thread_count();

/// The most threads worth running: 4 per core this process may run on (more
/// only slow the network down). -j and OMP_NUM_THREADS are held to it.
int most_threads();

/// default_thread_count() and where it comes from, for messages.
struct ThreadDefault {
  int count = 1;
  bool from_environment = false;  ///< OMP_NUM_THREADS, else the cores
  /// OMP_NUM_THREADS's value where it is set but not taken (not a count
  /// from 1 to most_threads()): the cores are used instead. Empty otherwise.
  std::string ignored;
};
ThreadDefault thread_default();

/// Memory the system (or the cgroup this process runs in, if tighter) has
/// available now.
std::size_t available_memory();

/// Memory Mode::Auto may use when the options give no budget: half of
/// available_memory().
std::size_t default_memory_budget();

/// Version strings of the libraries fdiwn runs on.
std::string torch_version();
std::string opencv_version();

}  // namespace fdiwn
FDIWN_API_END
