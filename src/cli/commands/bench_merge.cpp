// `fdiwn bench --merge`: the results of shards combined into the table a
// single run over the whole set prints.
#include "cli/commands/bench_merge.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/batch/output_guard.hpp"
#include "cli/batch/sharding.hpp"
#include "cli/scoring/score_report.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"

namespace fdiwn::cli {

namespace {

namespace fs = std::filesystem;

// Results of a bench run are small; anything much larger is not one.
constexpr std::uint64_t kMaxResultBytes = std::uint64_t{256} << 20;

std::string read_text(const std::string& path) {
  ReadLimits limits;
  limits.max_bytes = kMaxResultBytes;
  limits.max_bytes_reason = "a bench result can be (256 MiB)";
  const std::vector<unsigned char> bytes = read_file(path, limits);
  return std::string(bytes.begin(), bytes.end());
}

// Which shards of a K/N split went into one merged set, to refuse a table
// that silently covers only part of the set.
struct ShardsSeen {
  std::map<int64_t, std::string> files;  ///< shard index -> the file that had it
  std::vector<std::string> unsharded;    ///< files of runs over the whole set
  int64_t count = 0;                     ///< N, once a sharded file was seen
};

std::string set_label(const ScoreSet& set) {
  return (set.method.empty() ? "" : set.method + " ") +
         (set.set_name.empty() ? "" : set.set_name + " ") + "x" + std::to_string(set.scale) +
         (set.mode.empty() ? "" : " " + set.mode) + (set.tta ? " tta" : "");
}

void check_shards(const ShardsSeen& seen, const ScoreSet& set) {
  if (seen.unsharded.size() > 1) {
    // Two runs over "the whole set" are two sets under one name (or one
    // given twice): their union would be neither.
    throw InvalidArgument("--merge: " + seen.unsharded[0] + " and " + seen.unsharded[1] +
                          " both hold the whole " + set_label(set) + " set");
  }
  if (seen.count == 0) return;  // whole-set results only: nothing to check
  if (!seen.unsharded.empty()) {
    throw InvalidArgument("--merge: " + seen.unsharded.front() + " holds the whole " +
                          set_label(set) + " set, the others are shards of it");
  }
  std::vector<std::string> missing;
  for (int64_t k = 0; k < seen.count; ++k) {
    if (!seen.files.count(k)) missing.push_back(Shard{k, seen.count}.text());
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    throw InvalidArgument("--merge: " + set_label(set) + ": no result for shard(s) " + list +
                          ": the table would cover only part of the set");
  }
}

// One run reads a set's HR images from one folder, and its LR (or SR)
// images from one folder or makes them all: shards that differ there are of
// different runs, whose union no single run prints (found by hand: shards
// of two folders both named set4 merged into one table).
void check_one_source(const ScoreSet& set) {
  if (set.images.empty()) return;
  const auto folder = [](const std::string& file) {
    return fs::path(file).parent_path().lexically_normal().string();
  };
  // An image that failed for want of a partner has none to compare (found
  // in review: its empty name read as "made from its HR image").
  const auto paired = [](const ImageScore& im) { return im.error.empty() || !im.other.empty(); };
  const auto first_paired = std::find_if(set.images.begin(), set.images.end(), paired);
  const ImageScore& first = first_paired != set.images.end() ? *first_paired : set.images.front();
  for (const ImageScore& im : set.images) {
    const auto differ = [&](const std::string& what, const std::string& a, const std::string& b) {
      throw InvalidArgument("--merge: " + set_label(set) + ": '" + first.name + "' " + what + " " +
                            a + ", '" + im.name + "' " + b + ": results of different runs");
    };
    if (folder(im.hr) != folder(first.hr)) {
      differ("was scored against", first.hr, "against " + im.hr);
    }
    if (!paired(im)) continue;
    if (im.other.empty() != first.other.empty() ||
        (!im.other.empty() && folder(im.other) != folder(first.other))) {
      const auto source = [](const std::string& other) {
        return other.empty() ? std::string("made from its HR image") : "read from " + other;
      };
      differ("had its low-resolution or SR image", source(first.other), source(im.other));
    }
  }
}

}  // namespace

// Combines shards' JSON results: per scale, set and method (and mode,
// protocol), the union of their images in name order, so the tables and the
// means are those of a single run over the whole set.
int run_merge(const std::vector<std::string>& files, const ScoringArgs& scoring) {
  OutputGuard guard;
  for (const auto& f : files) guard.add_input(f);
  using Key = std::tuple<int, std::string, std::string, std::string, bool, bool, int>;
  std::map<Key, ScoreSet> merged;
  std::map<Key, ShardsSeen> shards;
  std::vector<Key> order;  // as first seen: the table keeps the runs' order
  for (const auto& f : files) {
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(read_text(f));
    } catch (const FileError& e) {
      throw InvalidArgument(std::string("--merge: ") + e.what());
    } catch (const nlohmann::json::exception& e) {
      throw InvalidArgument(f + ": not JSON (" + e.what() + ")");
    }
    const auto shard_field = doc.find("shard");
    Shard shard;
    if (shard_field != doc.end()) {
      if (!shard_field->is_string() || shard_field->get<std::string>() == "slurm") {
        throw InvalidArgument(f + ": 'shard' is not K/N");
      }
      shard = parse_shard(shard_field->get<std::string>());
    }
    for (auto& set : from_json(doc, f)) {
      const Key key{set.scale, set.set_name,  set.method,     set.mode,
                    set.tta,   set.y_channel, set.crop_border};
      auto& seen = shards[key];
      if (shard.all()) {
        seen.unsharded.push_back(f);
      } else {
        if (seen.count != 0 && seen.count != shard.count) {
          throw InvalidArgument("--merge: " + f + " is shard " + shard.text() + " but " +
                                seen.files.begin()->second + " is one of " +
                                std::to_string(seen.count) + " shards");
        }
        seen.count = shard.count;
        const auto [it, added] = seen.files.emplace(shard.index, f);
        if (!added) {
          throw InvalidArgument("--merge: " + set_label(set) + " shard " + shard.text() +
                                " is in both " + it->second + " and " + f);
        }
      }
      if (!merged.count(key)) order.push_back(key);
      auto& into = merged[key];
      if (into.scale == 0) {
        into = set;
        into.images.clear();
      }
      into.images.insert(into.images.end(), set.images.begin(), set.images.end());
      // Found by hand: --csv could name an image the results were scored on.
      for (const ImageScore& im : set.images) {
        guard.add_input(im.hr);
        if (!im.other.empty()) guard.add_input(im.other);
      }
    }
  }
  claim_score_files(guard, scoring);
  std::vector<ScoreSet> sets;
  for (const Key& key : order) {
    ScoreSet& set = merged[key];
    check_shards(shards[key], set);
    check_one_source(set);
    std::sort(set.images.begin(), set.images.end(),
              [](const ImageScore& a, const ImageScore& b) { return a.name < b.name; });
    for (size_t i = 1; i < set.images.size(); ++i) {
      if (set.images[i].name == set.images[i - 1].name) {
        throw InvalidArgument("--merge: image '" + set.images[i].name + "' (x" +
                              std::to_string(set.scale) + ") is in more than one result");
      }
    }
    std::FILE* out = rows_stream(scoring);
    print_header(out, set,
                 "Merged from " + std::to_string(files.size()) + " result files: " +
                     (set.method.empty() ? "" : set.method + " on ") + set.set_name);
    for (const auto& r : set.images) print_row(out, r);
    print_mean(out, set);
    sets.push_back(std::move(set));
  }
  print_summary(sets, scoring);
  return write_score_files(sets, scoring);
}

}  // namespace fdiwn::cli
