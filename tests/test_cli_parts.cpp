// The command's parts that need no network: values, job planning and the
// batch's side-by-side turns.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <CLI/CLI.hpp>

#include "cli/batch/jobs.hpp"
#include "cli/batch/pipeline.hpp"
#include "cli/commands/values.hpp"
#include "cli/scoring/pairing.hpp"
#include "fdiwn/errors.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;
using cli::JobRequest;

TEST(Values, MemorySizes) {
  constexpr std::size_t GiB = std::size_t{1} << 30;
  constexpr std::size_t kLeast = std::size_t{64} << 20;
  EXPECT_EQ(cli::parse_memory_size("8G", 0, kLeast, "why"), 8 * GiB);
  EXPECT_EQ(cli::parse_memory_size("1.5GiB", 0, kLeast, "why"), 3 * GiB / 2);
  EXPECT_EQ(cli::parse_memory_size("512M", 0, kLeast, "why"), 512u << 20);
  EXPECT_EQ(cli::parse_memory_size("50%", 10 * GiB, kLeast, "why"), 5 * GiB);
  EXPECT_EQ(cli::parse_memory_size("100000000", 0, kLeast, "why"), 100000000u);
  // Hexadecimal, infinities and leading spaces are no sizes (found by hand:
  // std::stod read 0x20000000 as 512 MiB).
  for (const char* bad :
       {"", "G", "8Q", "-1G", "150%", "1M", "nan", "0x20000000", "0x1p30", "inf", " 8G"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(cli::parse_memory_size(bad, 10 * GiB, kLeast, "why"), InvalidArgument);
  }
  // Below the least, the figure and the reason (found by hand: "at least 64
  // MiB is needed", and then 64M failed every image).
  try {
    cli::parse_memory_size("300M", 0, std::size_t{406} << 20, "the smallest piece");
    ADD_FAILURE() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(),
                 "--max-memory '300M': fdiwn needs at least 406 MiB (the smallest piece)");
  }
}

TEST(Values, PixelCounts) {
  EXPECT_EQ(cli::parse_pixel_count("100M"), 100000000);
  EXPECT_EQ(cli::parse_pixel_count("1e8"), 100000000);
  EXPECT_EQ(cli::parse_pixel_count("10000x10000"), 100000000);
  EXPECT_EQ(cli::parse_pixel_count("640x480"), 307200);
  EXPECT_EQ(cli::parse_pixel_count("2.5e3x4"), 10000);
  EXPECT_EQ(cli::parse_pixel_count("1.2345M"), 1234500);
  EXPECT_EQ(cli::parse_pixel_count("0.5k"), 500);
  // Found by hand: 1.5 was taken as 1 pixel.
  EXPECT_THROW(cli::parse_pixel_count("0.5x4"), InvalidArgument);
  for (const char* part : {"1.5", "1.0005k", "1.0000005M"}) {
    SCOPED_TRACE(part);
    try {
      cli::parse_pixel_count(part);
      ADD_FAILURE() << "accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("is not a whole number of pixels"), std::string::npos)
          << e.what();
    }
  }
  // Found by hand: 0x300 was read as hexadecimal, 768 pixels.
  for (const char* bad : {"", "0", "x", "10x", "10Q", "-5", "0x300", "0x0", "inf", "1e", " 5"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(cli::parse_pixel_count(bad), InvalidArgument);
  }
}

// The library's named choices as options: names in, values out; numbers
// (CLI11's own reading of an enum) and other names refused with the list.
TEST(Values, ChoicesByName) {
  const auto parse = [](std::vector<std::string> argv, Mode& mode) {
    CLI::App app;
    static constexpr Mode kSome[] = {Mode::Chop, Mode::Whole};
    cli::add_choice(&app, "-m,--mode", mode, "", kSome, parse_mode);
    std::reverse(argv.begin(), argv.end());
    try {
      app.parse(argv);
    } catch (const CLI::ParseError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  Mode mode = Mode::Chop;
  EXPECT_EQ(parse({"--mode", "whole"}, mode), "");
  EXPECT_EQ(mode, Mode::Whole);
  mode = Mode::Chop;
  EXPECT_EQ(parse({}, mode), "");
  EXPECT_EQ(mode, Mode::Chop);
  EXPECT_EQ(parse({"--mode", "auto"}, mode), "--mode: auto not in {chop,whole}");
  EXPECT_EQ(parse({"--mode", "0"}, mode), "--mode: 0 not in {chop,whole}");
}

TEST(Jobs, NamePattern) {
  EXPECT_EQ(cli::expand_name("{name}.{ext}", "cat", "png", "2"), "cat.png");
  EXPECT_EQ(cli::expand_name("{name}_x{scale}.{ext}", "cat", "jpg", "4"), "cat_x4.jpg");
  EXPECT_EQ(cli::expand_name("{name}_x{scale}.{ext}", "cat", "jpg", "1.5"), "cat_x1.5.jpg");
  EXPECT_THROW(cli::expand_name("{nom}.png", "cat", "png", "2"), InvalidArgument);
  EXPECT_THROW(cli::expand_name("a/{name}.png", "cat", "png", "2"), InvalidArgument);
  EXPECT_THROW(cli::expand_name("{name", "cat", "png", "2"), InvalidArgument);
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
  const auto list = cli::list_jobs(request(false));
  ASSERT_EQ(list.jobs.size(), 2u);
  EXPECT_EQ(list.jobs[0].output, dir_.file("out/a.jpg"));  // extension lower-cased
  EXPECT_EQ(list.jobs[1].output, dir_.file("out/b.png"));
  ASSERT_EQ(list.ignored.size(), 1u);
  EXPECT_EQ(fs::path(list.ignored[0]).filename(), "notes.txt");
  EXPECT_EQ(list.output_folder, dir_.file("out"));
}

TEST_F(JobPlanning, RecursiveMirrorsTheTree) {
  const auto list = cli::list_jobs(request(true));
  ASSERT_EQ(list.jobs.size(), 4u);
  EXPECT_EQ(list.jobs[2].output, dir_.file("out/deep/c.webp"));
  EXPECT_EQ(list.jobs[3].output, dir_.file("out/deep/er/d.tif"));
  EXPECT_EQ(list.jobs[3].display, "deep/er/d.tif");
}

TEST_F(JobPlanning, FormatForFolders) {
  auto r = request(false);
  r.format = "webp";
  const auto list = cli::list_jobs(r);
  EXPECT_EQ(list.jobs[0].output, dir_.file("out/a.webp"));
  r.format = "gif";
  EXPECT_THROW(cli::list_jobs(r), InvalidArgument);
}

TEST_F(JobPlanning, SingleFile) {
  JobRequest r;
  r.inputs = {dir_.file("in/b.png")};
  r.output = dir_.file("x/up.jpg");
  const auto list = cli::list_jobs(r);
  ASSERT_EQ(list.jobs.size(), 1u);
  EXPECT_EQ(list.jobs[0].output, dir_.file("x/up.jpg"));
  EXPECT_EQ(list.output_folder, dir_.file("x"));
  r.output = dir_.file("x/up");  // no extension
  EXPECT_THROW(cli::list_jobs(r), InvalidArgument);
  r.output = dir_.file("x/up.png");
  r.format = "jpg";  // disagrees with the extension
  EXPECT_THROW(cli::list_jobs(r), InvalidArgument);
}

TEST_F(JobPlanning, SingleFileIntoAFolder) {
  JobRequest r;
  r.inputs = {dir_.file("in/b.png")};
  r.output = dir_.file("out") + "/";
  r.name_pattern = "{name}_x{scale}.{ext}";
  r.scale = 3;
  const auto list = cli::list_jobs(r);
  EXPECT_EQ(list.jobs[0].output, dir_.file("out/b_x3.png"));
}

TEST_F(JobPlanning, MissingInputIsAUsageError) {
  JobRequest r = request(false);
  r.inputs.push_back(dir_.file("nope.png"));
  EXPECT_THROW(cli::list_jobs(r), InvalidArgument);
}

TEST_F(JobPlanning, OutputOverAnInputIsRefused) {
  JobRequest r = request(false);
  r.output = dir_.file("in");
  EXPECT_THROW(cli::list_jobs(r), InvalidArgument);
  JobRequest single;
  single.inputs = {dir_.file("in/b.png")};
  single.output = dir_.file("in/../in/b.png");
  EXPECT_THROW(cli::list_jobs(single), InvalidArgument);
}

// Two inputs that would land on one output: the message says why.
TEST_F(JobPlanning, CollidingOutputsAreExplained) {
  const auto message = [&](std::vector<std::string> inputs) {
    JobRequest r = request(false);
    r.inputs = std::move(inputs);
    try {
      cli::list_jobs(r);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  write_file(dir_.file("in/deep/b.png"), "x");
  write_file(dir_.file("in/b.jpg"), "x");
  EXPECT_NE(message({dir_.file("in/b.png"), dir_.file("in/deep/b.png")}).find("the same name"),
            std::string::npos);
  // One file twice, under two spellings (found by hand: "rename one of them").
  const std::string twice = message({dir_.file("in/b.png"), dir_.file("in/deep/../b.png")});
  EXPECT_NE(twice.find("given twice (also as"), std::string::npos) << twice;
  JobRequest r = request(false);
  r.format = "png";
  r.inputs = {dir_.file("in/b.png"), dir_.file("in/b.jpg")};
  try {
    cli::list_jobs(r);
    ADD_FAILURE() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("differ only in the extension"), std::string::npos)
        << e.what();
  }
}

TEST_F(JobPlanning, OutputFolderThatIsAFileIsRefused) {
  JobRequest r = request(false);
  r.output = dir_.file("in/b.png");
  EXPECT_THROW(cli::list_jobs(r), InvalidArgument);
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

namespace fdiwn::test {
namespace {

// Whether `flag` stays false for a while: the thread that sets it is blocked.
bool stays_false(const std::atomic<bool>& flag) {
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return !flag;
}

// A large image waits for the small ones running, and small ones arriving
// meanwhile wait for it (a stream of small ones cannot hold it back).
TEST(SideBySideGate, ALargeImageRunsAloneAndIsNotOvertaken) {
  cli::SideBySideGate gate;
  std::atomic<bool> large_in{false}, large_out{false}, late_small_in{false};
  std::atomic<bool> late_small_saw_large_out{false};
  gate.enter(false);  // a small image is running
  std::thread large([&] {
    cli::SideBySideTurn turn(gate, true);
    large_in = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    large_out = true;
  });
  EXPECT_TRUE(stays_false(large_in)) << "the large image did not wait for the small one";
  std::thread late_small([&] {
    cli::SideBySideTurn turn(gate, false);
    late_small_saw_large_out = large_out.load();
    late_small_in = true;
  });
  EXPECT_TRUE(stays_false(late_small_in)) << "a small image overtook the waiting large one";
  gate.leave(false);
  large.join();
  late_small.join();
  EXPECT_TRUE(large_in);
  EXPECT_TRUE(late_small_saw_large_out) << "a small image ran beside the large one";
}

// An image's hold on the batch's memory goes back whichever way it leaves.
TEST(MemoryHold, GivesBackWhatItHolds) {
  cli::MemoryGate gate(1000, [] { return false; });
  {
    cli::MemoryHold a = cli::MemoryHold::acquire(gate, 600);
    EXPECT_EQ(gate.held(), 600u);
    a.shrink_to(400);
    EXPECT_EQ(gate.held(), 400u);
    cli::MemoryHold b = std::move(a);  // handed to the next stage
    EXPECT_EQ(a.bytes(), 0u);
    EXPECT_EQ(b.bytes(), 400u);
    cli::MemoryHold c = cli::MemoryHold::hold(gate, 2000);  // already allocated: no wait
    EXPECT_EQ(gate.held(), 2400u);
    c.release();
    EXPECT_EQ(gate.held(), 400u);
  }
  EXPECT_EQ(gate.held(), 0u);
}

TEST(SideBySideGate, SmallImagesRunTogether) {
  cli::SideBySideGate gate;
  std::atomic<bool> second_in{false};
  gate.enter(false);
  std::thread second([&] {
    cli::SideBySideTurn turn(gate, false);
    second_in = true;
  });
  second.join();  // would hang if small images excluded each other
  EXPECT_TRUE(second_in);
  gate.leave(false);
}

}  // namespace
}  // namespace fdiwn::test
