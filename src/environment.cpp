// What the library needs to know about its surroundings: where the bundled
// weights are, how many cores and how much memory it may use.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include <torch/version.h>
#include <opencv2/core/version.hpp>

#include "fdiwn/environment.hpp"

namespace fdiwn {

namespace {
// The running binary's folder: weights are found relative to it, not to the
// current directory, so the tool works from anywhere.
std::filesystem::path executable_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}
// One number from a file such as /sys/fs/cgroup/memory.max ("max" -> none).
std::optional<std::size_t> read_number(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text.empty() || text == "max") return std::nullopt;
  try {
    return static_cast<std::size_t>(std::stoull(text));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// MemAvailable from /proc/meminfo, in bytes.
std::optional<std::size_t> mem_available() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  std::size_t kib = 0;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return kib * 1024;
  }
  return std::nullopt;
}

// What the cgroup this process runs in (a container, a Slurm job) still
// allows: limit minus usage. cgroup v2 first, then v1.
std::optional<std::size_t> cgroup_headroom() {
  std::ifstream self("/proc/self/cgroup");
  std::string line;
  while (std::getline(self, line)) {
    if (line.rfind("0::", 0) == 0) {
      const std::string dir = "/sys/fs/cgroup" + line.substr(3);
      const auto limit = read_number(dir + "/memory.max");
      const auto usage = read_number(dir + "/memory.current");
      if (limit && usage) return *limit > *usage ? *limit - *usage : 0;
    }
  }
  const auto limit = read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  const auto usage = read_number("/sys/fs/cgroup/memory/memory.usage_in_bytes");
  // v1 reports "no limit" as a huge number.
  if (limit && usage && *limit < (std::size_t{1} << 60))
    return *limit > *usage ? *limit - *usage : 0;
  return std::nullopt;
}

}  // namespace

std::string default_weights_path(int scale) {
  const std::string name = "FDIWNx" + std::to_string(scale) + ".pt";
  if (const char* dir = std::getenv("FDIWN_WEIGHTS_DIR"); dir != nullptr && *dir != '\0') {
    return (std::filesystem::path(dir) / name).string();
  }
  // <prefix>/bin/fdiwn -> <prefix>/share/fdiwn/weights, the same layout in
  // the build tree (build/bin, build/share) and in an installed tree.
  return (executable_dir() / ".." / "share" / "fdiwn" / "weights" / name)
      .lexically_normal()
      .string();
}

int available_cores() {
  // Respect taskset/cgroup CPU masks, which hardware_concurrency ignores.
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

int most_threads() {
  return 4 * available_cores();
}

ThreadDefault thread_default() {
  // OMP_NUM_THREADS as OpenMP reads it (its first value), where it is a
  // positive count: a user's or a cluster job's limit. Found by hand: the
  // man page named it, and nothing read it.
  // At most most_threads(), as for -j (found by hand: 4096 was taken on 2
  // cores, and took twice as long as 2).
  ThreadDefault d;
  if (const char* env = std::getenv("OMP_NUM_THREADS"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    errno = 0;
    const long n = std::strtol(env, &end, 10);
    if (end != env && (*end == '\0' || *end == ',') && errno == 0 && n > 0 && n <= most_threads()) {
      d.count = static_cast<int>(n);
      d.from_environment = true;
      return d;
    }
    d.ignored = env;
  }
  d.count = available_cores();
  return d;
}

int default_thread_count() {
  return thread_default().count;
}

std::size_t available_memory() {
  std::size_t available = mem_available().value_or(std::size_t{4} << 30);
  if (const auto headroom = cgroup_headroom()) available = std::min(available, *headroom);
  return available;
}

std::size_t default_memory_budget() {
  // Half: the rest is for the page cache and whatever else runs on the
  // machine.
  return available_memory() / 2;
}

std::string torch_version() {
  return TORCH_VERSION;
}

std::string opencv_version() {
  return CV_VERSION;
}

}  // namespace fdiwn
