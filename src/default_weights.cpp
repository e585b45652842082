// Finding the bundled weights and the machine's cores (no LibTorch here).
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "fdiwn/upscaler.hpp"

namespace fdiwn {

namespace {
// The running binary's folder: weights are found relative to it, not to the
// current directory, so the tool works from anywhere.
std::filesystem::path executable_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
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

int default_thread_count() {
  // Respect taskset/cgroup CPU masks, which hardware_concurrency ignores.
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace fdiwn
