// Sharding (src/cli/batch/sharding.hpp): every input in exactly one shard, chosen
// by a hash that never changes, so that shards of a batch never collide and
// adding inputs never moves the others.
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/batch/sharding.hpp"
#include "fdiwn/errors.hpp"

namespace fdiwn::test {
namespace {

using cli::parse_shard;
using cli::Shard;

// The variables parse_shard("slurm") reads.
constexpr const char* kSlurmArrayVariables[] = {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN",
                                                "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_STEP",
                                                "SLURM_ARRAY_TASK_COUNT"};

// Sets environment variables for one scope, restoring what was there.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::map<std::string, std::string>& values) {
    for (const char* name : kSlurmArrayVariables) {
      if (const char* v = std::getenv(name)) saved_[name] = v;
      ::unsetenv(name);
    }
    for (const auto& [name, value] : values) ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    for (const char* name : kSlurmArrayVariables) {
      ::unsetenv(name);
    }
    for (const auto& [name, value] : saved_) ::setenv(name.c_str(), value.c_str(), 1);
  }

 private:
  std::map<std::string, std::string> saved_;
};

void expect_shard(const std::string& spec, int64_t index, int64_t count) {
  SCOPED_TRACE(spec);
  const Shard s = parse_shard(spec);
  EXPECT_EQ(s.index, index);
  EXPECT_EQ(s.count, count);
}

TEST(Sharding, ParsesKOfN) {
  expect_shard("", 0, 1);
  expect_shard("0/1", 0, 1);
  expect_shard("0/4", 0, 4);
  expect_shard("3/4", 3, 4);
  expect_shard("17/100", 17, 100);
}

TEST(Sharding, RefusesWhatIsNotAShard) {
  ScopedEnv env({});
  for (const char* bad :
       {"4/4", "1/0", "0/0", "-1/4", "1", "1/", "/4", "a/b", "1/4/2", " 1/4", "slurm"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(parse_shard(bad), InvalidArgument);
  }
}

TEST(Sharding, SlurmArrayFromZero) {
  ScopedEnv env({{"SLURM_ARRAY_TASK_ID", "2"},
                 {"SLURM_ARRAY_TASK_MIN", "0"},
                 {"SLURM_ARRAY_TASK_MAX", "3"},
                 {"SLURM_ARRAY_TASK_COUNT", "4"}});
  expect_shard("slurm", 2, 4);
}

TEST(Sharding, SlurmArrayWithAnOffsetAndAStep) {
  // sbatch --array=10-16:2 -> tasks 10, 12, 14, 16.
  ScopedEnv env({{"SLURM_ARRAY_TASK_ID", "14"},
                 {"SLURM_ARRAY_TASK_MIN", "10"},
                 {"SLURM_ARRAY_TASK_MAX", "16"},
                 {"SLURM_ARRAY_TASK_STEP", "2"}});
  expect_shard("slurm", 2, 4);
}

TEST(Sharding, SlurmOutsideAnArrayIsAUsageError) {
  ScopedEnv env({});
  try {
    parse_shard("slurm");
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("SLURM_ARRAY_TASK_ID"), std::string::npos) << e.what();
  }
}

TEST(Sharding, SlurmValuesThatAreNotCountsAreNamed) {
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"SLURM_ARRAY_TASK_ID", "abc"},
                                                        {"SLURM_ARRAY_TASK_STEP", "-2"},
                                                        {"SLURM_ARRAY_TASK_COUNT", "4x"}}) {
    SCOPED_TRACE(name + "=" + value);
    std::map<std::string, std::string> values = {{"SLURM_ARRAY_TASK_ID", "2"},
                                                 {"SLURM_ARRAY_TASK_MAX", "3"}};
    values[name] = value;
    ScopedEnv env(values);
    try {
      parse_shard("slurm");
      FAIL() << "no exception";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(name + " is '" + value + "'"), std::string::npos)
          << e.what();
    }
  }
}

TEST(Sharding, HashIsFnv1a64) {
  // Published FNV-1a 64-bit values: the hash must never change between
  // versions or machines, or shards of one batch run by two versions would
  // overlap.
  EXPECT_EQ(cli::stable_hash(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(cli::stable_hash("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(cli::stable_hash("foobar"), 0x85944171f73967e8ull);
}

std::vector<std::string> names(int n, const std::string& prefix) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(prefix + std::to_string(i) + ".png");
  return v;
}

TEST(Sharding, EveryInputInExactlyOneShard) {
  for (int64_t count : {1, 2, 3, 4, 7, 16}) {
    SCOPED_TRACE("N=" + std::to_string(count));
    std::map<int64_t, int> sizes;
    for (const auto& key : names(1000, "dir/img_")) {
      int owners = 0;
      for (int64_t k = 0; k < count; ++k) {
        if (cli::in_shard(key, Shard{k, count})) {
          ++owners;
          ++sizes[k];
        }
      }
      EXPECT_EQ(owners, 1) << key;
    }
    // Balanced enough to be useful: no shard under half its fair share.
    for (int64_t k = 0; k < count; ++k) EXPECT_GT(sizes[k], 1000 / count / 2) << "shard " << k;
  }
}

TEST(Sharding, AddingInputsMovesNoOtherInput) {
  const Shard shard{1, 4};
  std::set<std::string> before;
  for (const auto& key : names(200, "a/")) {
    if (cli::in_shard(key, shard)) before.insert(key);
  }
  auto more = names(200, "a/");
  for (const auto& key : names(300, "b/")) more.push_back(key);
  for (const auto& key : more) {
    if (key.rfind("a/", 0) == 0) {
      EXPECT_EQ(cli::in_shard(key, shard), before.count(key) == 1) << key;
    }
  }
}

}  // namespace
}  // namespace fdiwn::test
