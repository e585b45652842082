#include "cli/batch/sharding.hpp"

#include <cstdlib>
#include <stdexcept>

#include "cli/report/printable.hpp"
#include "fdiwn/errors.hpp"

namespace fdiwn::cli {

namespace {

bool parse_int(const std::string& s, int64_t& out) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  out = std::stoll(s);
  return true;
}

int64_t env_int(const char* name, bool required) {
  const char* v = std::getenv(name);
  int64_t n = 0;
  if (v && parse_int(v, n)) return n;
  // Found by hand: a value that is set but not a count was reported as not
  // set (or, for the optional ones, taken as absent).
  if (v && *v) {
    throw InvalidArgument(std::string("--shard slurm: ") + name + " is '" + printable(v) +
                          "', not a whole number of 0 or more");
  }
  if (required) {
    throw InvalidArgument(std::string("--shard slurm: ") + name +
                          " is not set; is this a Slurm job array task (sbatch --array)?");
  }
  return -1;
}

}  // namespace

Shard parse_shard(const std::string& spec) {
  Shard s;
  if (spec.empty()) return s;
  if (spec == "slurm") {
    const int64_t id = env_int("SLURM_ARRAY_TASK_ID", true);
    const int64_t min = std::max<int64_t>(0, env_int("SLURM_ARRAY_TASK_MIN", false));
    const int64_t step = std::max<int64_t>(1, env_int("SLURM_ARRAY_TASK_STEP", false));
    int64_t count = env_int("SLURM_ARRAY_TASK_COUNT", false);
    if (count < 0) count = (env_int("SLURM_ARRAY_TASK_MAX", true) - min) / step + 1;
    s.index = (id - min) / step;
    s.count = count;
  } else {
    const auto slash = spec.find('/');
    if (slash == std::string::npos || !parse_int(spec.substr(0, slash), s.index) ||
        !parse_int(spec.substr(slash + 1), s.count)) {
      throw InvalidArgument("--shard '" + spec + "': expected K/N (0-based K) or 'slurm'");
    }
  }
  if (s.count < 1 || s.index < 0 || s.index >= s.count) {
    throw InvalidArgument("--shard: shard " + s.text() + " does not exist (0 <= K < N)");
  }
  return s;
}

uint64_t stable_hash(const std::string& key) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis
  for (unsigned char c : key) {
    h ^= c;
    h *= 0x100000001b3ull;  // FNV-1a 64 prime
  }
  return h;
}

bool in_shard(const std::string& key, const Shard& shard) {
  return shard.all() ||
         static_cast<int64_t>(stable_hash(key) % static_cast<uint64_t>(shard.count)) == shard.index;
}

}  // namespace fdiwn::cli
