// Splitting a batch between independent processes (Slurm job arrays,
// Kubernetes Indexed Jobs, GNU parallel): each input belongs to exactly one
// shard, chosen by a stable hash of its path relative to its input root, so
// adding files never moves the others and no two shards write one output.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace fdiwn::cli {

struct Shard {
  int64_t index = 0;  ///< 0-based
  int64_t count = 1;
  bool all() const { return count == 1; }
  std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
};

/// "K/N" (0 <= K < N), "slurm" (the job array task this process is:
/// SLURM_ARRAY_TASK_ID/_MIN/_STEP/_COUNT) or "" (everything). Throws
/// InvalidArgument for anything else, or "slurm" outside a job array.
Shard parse_shard(const std::string& spec);

/// 64-bit FNV-1a of the bytes: stable across runs, machines and versions.
uint64_t stable_hash(const std::string& key);

bool in_shard(const std::string& key, const Shard& shard);

/// Keeps only the items of this shard, `key(item)` naming each; returns how
/// many there were before (for the log line).
template <class T, class Key>
size_t keep_shard(std::vector<T>& items, const Shard& shard, Key key) {
  const size_t total = items.size();
  items.erase(std::remove_if(items.begin(), items.end(),
                             [&](const T& item) { return !in_shard(key(item), shard); }),
              items.end());
  return total;
}

}  // namespace fdiwn::cli
