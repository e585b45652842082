// The command's parts that need no network: values and job planning.
#include <filesystem>

#include <gtest/gtest.h>

#include "fdiwn/errors.hpp"
#include "jobs.hpp"
#include "pairing.hpp"
#include "test_support.hpp"
#include "values.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;
using cli::JobRequest;

TEST(Values, MemorySizes) {
  constexpr std::size_t GiB = std::size_t{1} << 30;
  EXPECT_EQ(cli::parse_memory_size("8G", 0), 8 * GiB);
  EXPECT_EQ(cli::parse_memory_size("1.5GiB", 0), 3 * GiB / 2);
  EXPECT_EQ(cli::parse_memory_size("512M", 0), 512u << 20);
  EXPECT_EQ(cli::parse_memory_size("50%", 10 * GiB), 5 * GiB);
  EXPECT_EQ(cli::parse_memory_size("100000000", 0), 100000000u);
  for (const char* bad : {"", "G", "8Q", "-1G", "150%", "1M", "nan"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(cli::parse_memory_size(bad, 10 * GiB), InvalidArgument);
  }
}

TEST(Values, PixelCounts) {
  EXPECT_EQ(cli::parse_pixel_count("100M"), 100000000);
  EXPECT_EQ(cli::parse_pixel_count("1e8"), 100000000);
  EXPECT_EQ(cli::parse_pixel_count("10000x10000"), 100000000);
  EXPECT_EQ(cli::parse_pixel_count("640x480"), 307200);
  for (const char* bad : {"", "0", "x", "10x", "10Q", "-5"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(cli::parse_pixel_count(bad), InvalidArgument);
  }
}

TEST(Jobs, NamePattern) {
  EXPECT_EQ(cli::expand_name("{name}.{ext}", "cat", "png", 2), "cat.png");
  EXPECT_EQ(cli::expand_name("{name}_x{scale}.{ext}", "cat", "jpg", 4), "cat_x4.jpg");
  EXPECT_THROW(cli::expand_name("{nom}.png", "cat", "png", 2), InvalidArgument);
  EXPECT_THROW(cli::expand_name("a/{name}.png", "cat", "png", 2), InvalidArgument);
  EXPECT_THROW(cli::expand_name("{name", "cat", "png", 2), InvalidArgument);
}

class JobPlanning : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.file("in/deep/er"));
    fs::create_directories(dir_.file("in/.hidden"));
    for (const char* f : {"in/b.png", "in/a.JPG", "in/deep/c.webp", "in/deep/er/d.tif",
                          "in/notes.txt", "in/.e.png", "in/.hidden/f.png"}) {
      write_file(dir_.file(f), "x");
    }
  }
  JobRequest request(bool recursive) {
    JobRequest r;
    r.inputs = {dir_.file("in")};
    r.output = dir_.file("out");
    r.recursive = recursive;
    r.scale = 2;
    return r;
  }
  TempDir dir_;
};

TEST_F(JobPlanning, FolderSortedHiddenAndNonImagesLeftOut) {
  const auto list = cli::plan_jobs(request(false));
  ASSERT_EQ(list.jobs.size(), 2u);
  EXPECT_EQ(list.jobs[0].output, dir_.file("out/a.jpg"));  // extension lower-cased
  EXPECT_EQ(list.jobs[1].output, dir_.file("out/b.png"));
  ASSERT_EQ(list.ignored.size(), 1u);
  EXPECT_EQ(fs::path(list.ignored[0]).filename(), "notes.txt");
  EXPECT_EQ(list.output_folder, dir_.file("out"));
}

TEST_F(JobPlanning, RecursiveMirrorsTheTree) {
  const auto list = cli::plan_jobs(request(true));
  ASSERT_EQ(list.jobs.size(), 4u);
  EXPECT_EQ(list.jobs[2].output, dir_.file("out/deep/c.webp"));
  EXPECT_EQ(list.jobs[3].output, dir_.file("out/deep/er/d.tif"));
  EXPECT_EQ(list.jobs[3].display, "deep/er/d.tif");
}

TEST_F(JobPlanning, FormatForFolders) {
  auto r = request(false);
  r.format = "webp";
  const auto list = cli::plan_jobs(r);
  EXPECT_EQ(list.jobs[0].output, dir_.file("out/a.webp"));
  r.format = "gif";
  EXPECT_THROW(cli::plan_jobs(r), InvalidArgument);
}

TEST_F(JobPlanning, SingleFile) {
  JobRequest r;
  r.inputs = {dir_.file("in/b.png")};
  r.output = dir_.file("x/up.jpg");
  const auto list = cli::plan_jobs(r);
  ASSERT_EQ(list.jobs.size(), 1u);
  EXPECT_EQ(list.jobs[0].output, dir_.file("x/up.jpg"));
  EXPECT_EQ(list.output_folder, dir_.file("x"));
  r.output = dir_.file("x/up");  // no extension
  EXPECT_THROW(cli::plan_jobs(r), InvalidArgument);
  r.output = dir_.file("x/up.png");
  r.format = "jpg";  // disagrees with the extension
  EXPECT_THROW(cli::plan_jobs(r), InvalidArgument);
}

TEST_F(JobPlanning, SingleFileIntoAFolder) {
  JobRequest r;
  r.inputs = {dir_.file("in/b.png")};
  r.output = dir_.file("out") + "/";
  r.name_pattern = "{name}_x{scale}.{ext}";
  r.scale = 3;
  const auto list = cli::plan_jobs(r);
  EXPECT_EQ(list.jobs[0].output, dir_.file("out/b_x3.png"));
}

TEST_F(JobPlanning, MissingInputIsAUsageError) {
  JobRequest r = request(false);
  r.inputs.push_back(dir_.file("nope.png"));
  EXPECT_THROW(cli::plan_jobs(r), InvalidArgument);
}

TEST_F(JobPlanning, OutputOverAnInputIsRefused) {
  JobRequest r = request(false);
  r.output = dir_.file("in");
  EXPECT_THROW(cli::plan_jobs(r), InvalidArgument);
  JobRequest single;
  single.inputs = {dir_.file("in/b.png")};
  single.output = dir_.file("in/../in/b.png");
  EXPECT_THROW(cli::plan_jobs(single), InvalidArgument);
}

TEST_F(JobPlanning, OutputFolderThatIsAFileIsRefused) {
  JobRequest r = request(false);
  r.output = dir_.file("in/b.png");
  EXPECT_THROW(cli::plan_jobs(r), InvalidArgument);
}

}  // namespace
}  // namespace fdiwn::test

namespace fdiwn::test {
namespace {

TEST(Pairing, KeysToleratesTheUsualSuffixes) {
  for (const auto& [stem, key] :
       std::vector<std::pair<std::string, std::string>>{{"baby", "baby"},
                                                        {"baby_HR_x2", "baby"},
                                                        {"baby_LRBI_x2", "baby"},
                                                        {"baby_x4_SR", "baby"},
                                                        {"img_001_SRF_4_HR", "img_001"},
                                                        {"img_001_SRF_4_LR", "img_001"},
                                                        {"img_001", "img_001"},
                                                        {"0801x4", "0801"},
                                                        {"HR", "HR"}}) {
    EXPECT_EQ(cli::pairing_key(stem), key) << stem;
  }
}

}  // namespace
}  // namespace fdiwn::test
