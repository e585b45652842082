// `--shard K/N` on upscale and bench, and `bench --merge`: shards of a batch
// never write the same output, together they do the whole batch exactly as
// one process would, and merged bench shards print the single run's table.
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cli_runner.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;

// A small tree of distinct images: in/img<i>.png and in/sub/img<i>.png.
void make_tree(const std::string& in, int per_folder) {
  for (const std::string sub : {"", "sub/"}) {
    fs::create_directories(in + "/" + sub);
    for (int i = 0; i < per_folder; ++i) {
      cv::Mat m(12 + i, 16, CV_8UC3);
      cv::randu(m, 0, 255);
      ASSERT_TRUE(cv::imwrite(in + "/" + sub + "img" + std::to_string(i) + ".png", m));
    }
  }
}

std::set<std::string> files_under(const std::string& dir) {
  std::set<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) found.insert(fs::relative(e.path(), dir).string());
  }
  return found;
}

TEST(Shards, UpscaleShardsTogetherDoTheBatchOnce) {
  TempDir dir;
  make_tree(dir.file("in"), 6);
  const int shards = 3;
  std::set<std::string> done;
  for (int k = 0; k < shards; ++k) {
    const std::string spec = std::to_string(k) + "/" + std::to_string(shards);
    SCOPED_TRACE("shard " + spec);
    const auto r = run_fdiwn({"upscale", "-i", dir.file("in"), "-o", dir.file("out"), "-r", "-s",
                              "2", "--shard", spec, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto doc = nlohmann::json::parse(r.out);
    EXPECT_EQ(doc.at("shard"), spec);
    EXPECT_EQ(doc.at("skipped"), 0) << "a shard redid another shard's file";
    for (const auto& f : doc.at("files")) {
      EXPECT_EQ(f.at("status"), "done");
      EXPECT_TRUE(done.insert(f.at("output").get<std::string>()).second)
          << f.at("output") << " written by two shards";
    }
  }
  EXPECT_EQ(done.size(), 12u);
  // The same bytes as one process over the whole tree.
  const auto single =
      run_fdiwn({"upscale", "-i", dir.file("in"), "-o", dir.file("single"), "-r", "-s", "2"});
  ASSERT_EQ(single.exit_code, 0) << single.err;
  ASSERT_EQ(files_under(dir.file("out")), files_under(dir.file("single")));
  for (const auto& rel : files_under(dir.file("single"))) {
    SCOPED_TRACE(rel);
    EXPECT_EQ(read_file(dir.file("out/" + rel)), read_file(dir.file("single/" + rel)));
  }
}

TEST(Shards, BadShardIsAUsageError) {
  TempDir dir;
  make_tree(dir.file("in"), 1);
  const auto r =
      run_fdiwn({"upscale", "-i", dir.file("in"), "-o", dir.file("out"), "--shard", "4/4"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("4/4"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir.file("out")));
}

// Set5 x4 in whole-image mode (quick), scored in N shards.
const std::vector<std::string> kBench = {
    "bench", "--hr", data_path("Set5/HR/x4"), "--lr", data_path("Set5/LR/x4"), "-s", "4",
    "-m",    "whole"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// The mean line of a printed table without its timing columns:
// "mean of 5 32.2168 0.8954".
std::string mean_scores(const std::string& out) {
  const auto at = out.find("\nmean of ");
  if (at == std::string::npos) return "";
  std::istringstream line(out.substr(at + 1, out.find('\n', at + 1) - at - 1));
  std::string word, words;
  for (int i = 0; i < 5 && line >> word; ++i) words += (i ? " " : "") + word;
  return words;
}

class BenchShards : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int k = 0; k < 2; ++k) {
      const std::string json = dir_.file("shard" + std::to_string(k) + ".json");
      const auto r = run_fdiwn(with(kBench, {"--shard", std::to_string(k) + "/2", "--json", json}));
      ASSERT_EQ(r.exit_code, 0) << r.err;
      shard_files_.push_back(json);
    }
  }
  TempDir dir_;
  std::vector<std::string> shard_files_;
};

TEST_F(BenchShards, MergedTableEqualsASingleRun) {
  const auto single = run_fdiwn(with(kBench, {"--json", dir_.file("single.json")}));
  ASSERT_EQ(single.exit_code, 0) << single.err;
  const auto merged = run_fdiwn(
      with({"bench", "--merge"}, with(shard_files_, {"--json", dir_.file("merged.json")})));
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  // The printed mean to the last digit (the seconds columns aside), and every number in the JSON.
  const std::string a = mean_scores(single.out);
  ASSERT_FALSE(a.empty()) << single.out;
  EXPECT_EQ(a, mean_scores(merged.out)) << single.out << "\n" << merged.out;
  const auto js = nlohmann::json::parse(read_file(dir_.file("single.json"))).at("runs").at(0);
  const auto jm = nlohmann::json::parse(read_file(dir_.file("merged.json"))).at("runs").at(0);
  EXPECT_EQ(jm.at("mean").at("count"), 5);
  EXPECT_EQ(js.at("mean").at("psnr").get<double>(), jm.at("mean").at("psnr").get<double>());
  EXPECT_EQ(js.at("mean").at("ssim").get<double>(), jm.at("mean").at("ssim").get<double>());
  ASSERT_EQ(js.at("images").size(), jm.at("images").size());
  for (size_t i = 0; i < js.at("images").size(); ++i) {
    SCOPED_TRACE(js.at("images")[i].at("name").get<std::string>());
    EXPECT_EQ(js.at("images")[i].at("name"), jm.at("images")[i].at("name"));
    EXPECT_EQ(js.at("images")[i].at("psnr"), jm.at("images")[i].at("psnr"));
    EXPECT_EQ(js.at("images")[i].at("ssim"), jm.at("images")[i].at("ssim"));
  }
}

TEST_F(BenchShards, MergeRefusesAMissingShard) {
  const auto r = run_fdiwn({"bench", "--merge", shard_files_[0]});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no result for shard(s) 1/2"), std::string::npos) << r.err;
}

TEST_F(BenchShards, MergeRefusesAShardGivenTwice) {
  fs::copy_file(shard_files_[1], dir_.file("again.json"));
  const auto r =
      run_fdiwn({"bench", "--merge", shard_files_[0], shard_files_[1], dir_.file("again.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("shard 1/2 is in both"), std::string::npos) << r.err;
}

TEST_F(BenchShards, MergeRefusesShardsOfDifferentRuns) {
  // Found by hand: a shard of another folder of the same name, or with its
  // LR images made instead of read, merged into one table.
  const auto edited = [&](const std::string& name, const std::string& field,
                          const std::string& from, const std::string& to) {
    auto doc = nlohmann::json::parse(read_file(shard_files_[1]));
    for (auto& image : doc.at("runs").at(0).at("images")) {
      std::string value = image.at(field).get<std::string>();
      image[field] = to.empty() ? std::string() : value.replace(value.find(from), from.size(), to);
    }
    write_file(dir_.file(name), doc.dump());
    return dir_.file(name);
  };
  for (const auto& [file, reason] : std::vector<std::pair<std::string, std::string>>{
           {edited("other_hr.json", "hr", "Set5/HR", "Other/HR"), "was scored against"},
           {edited("made_lr.json", "other", "", ""), "made from its HR image"}}) {
    SCOPED_TRACE(file);
    const auto r = run_fdiwn({"bench", "--merge", shard_files_[0], file});
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("results of different runs"), std::string::npos) << r.err;
  }
}

TEST_F(BenchShards, MergeRefusesSomethingThatIsNotAResult) {
  write_file(dir_.file("other.json"), "{\"hello\": 1}");
  const auto r = run_fdiwn({"bench", "--merge", shard_files_[0], dir_.file("other.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(dir_.file("other.json")), std::string::npos) << r.err;
}

}  // namespace
}  // namespace fdiwn::test
