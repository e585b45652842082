// Hostile conditions for `fdiwn upscale`: full and read-only file systems,
// repeated interruptions at random points, decompression bombs and a memory
// budget that must bound a batch of large images.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cli_runner.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;

cv::Mat textured(int w, int h, int seed) {
  cv::Mat m(h, w, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, 255);
  cv::GaussianBlur(m, m, cv::Size(0, 0), 1.5);
  return m;
}

void make_inputs(const std::string& dir, int count, cv::Size size) {
  fs::create_directories(dir);
  for (int i = 0; i < count; ++i) {
    ASSERT_TRUE(cv::imwrite(dir + "/img" + std::to_string(i) + ".png",
                            textured(size.width, size.height + i, i)));
  }
}

std::vector<std::string> temporaries(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename().string().find(".fdiwn-") != std::string::npos) {
      found.push_back(it->path().string());
    }
  }
  return found;
}

// Every image in `dir` decodes whole, with the expected width.
void expect_complete_outputs(const std::string& dir, int width) {
  for (const auto& e : fs::directory_iterator(dir)) {
    SCOPED_TRACE(e.path().string());
    const cv::Mat m = cv::imread(e.path().string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(m.empty()) << "partial or corrupt output";
    EXPECT_EQ(m.cols, width);
  }
}

// True if this machine lets a test mount a small file system in a private
// mount namespace (unshare -rm: no root needed where user namespaces are on).
bool can_mount_tmpfs() {
  static const bool ok =
      run_command({"unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k none /mnt"})
          .exit_code == 0;
  return ok;
}

// Runs fdiwn writing into `out` on a `size` tmpfs (read-only if asked) inside
// a private mount namespace, then copies what it left there to `copy_to`.
CliResult run_on_tmpfs(const std::vector<std::string>& args, const std::string& out,
                       const std::string& size, bool read_only, const std::string& copy_to) {
  std::string script = "set -u; mount -t tmpfs -o size=" + size + " none \"$1\" || exit 99; ";
  if (read_only) script += "mount -o remount,ro \"$1\" || exit 99; ";
  script += "shift 2; \"$@\"; code=$?; cp -a \"$OUT\"/. \"$COPY\"/ 2>/dev/null; exit $code";
  std::vector<std::string> argv = {"unshare", "-rm", "sh",    "-c",        script,
                                   "sh",      out,   copy_to, fdiwn_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  CliOptions options;
  options.env = {"OUT=" + out, "COPY=" + copy_to};
  return run_command(argv, options);
}

// --- A full disk: clear error, no partial file, the batch goes on -----------------

// Checks a batch of 4 that ran out of space: clear errors naming the files,
// some outputs complete, the rest failed one by one, nothing partial left.
void expect_full_disk_handled(const CliResult& r, const std::string& out, const std::string& kept) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(out + "/img"), std::string::npos) << "the error names the file";
  const auto doc = nlohmann::json::parse(r.out);
  std::printf("full disk: %d done, %d failed\n", doc.at("done").get<int>(),
              doc.at("failed").get<int>());
  EXPECT_GE(doc.at("done").get<int>(), 1);
  EXPECT_GE(doc.at("failed").get<int>(), 1);
  EXPECT_EQ(doc.at("done").get<int>() + doc.at("failed").get<int>(), 4);
  EXPECT_TRUE(temporaries(kept).empty());
  expect_complete_outputs(kept, 384);
}

class FullDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    make_inputs(dir_.file("in"), 4, {96, 64});
    fs::create_directories(out_);
    fs::create_directories(kept_);
  }
  std::vector<std::string> args() const {
    return {"upscale", "-i", dir_.file("in"), "-o", out_, "-s", "4", "--json"};
  }
  TempDir dir_;
  const std::string out_ = dir_.file("out"), kept_ = dir_.file("kept");
};

TEST_F(FullDisk, SmallFileSystem) {
  if (can_mount_tmpfs()) {
    // Room for about one output (each is ~100-150 KB of PNG).
    std::printf("full disk: a 160 KiB tmpfs in a private mount namespace\n");
    expect_full_disk_handled(run_on_tmpfs(args(), out_, "160k", false, kept_), out_, kept_);
  } else {
    // No mount namespaces here: the fault-injected variant below is the test.
    std::printf("full disk: no mount namespace here; FaultInjected covers it\n");
    CliOptions options;
    options.env = {"FDIWN_TEST_WRITE_LIMIT=160000"};
    const auto r = run_fdiwn(args(), options);
    fs::copy(out_, kept_, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    expect_full_disk_handled(r, out_, kept_);
  }
}

TEST_F(FullDisk, FaultInjected) {
  // Writes fail with ENOSPC after 160000 bytes (the test hook in image_io.cpp).
  CliOptions options;
  options.env = {"FDIWN_TEST_WRITE_LIMIT=160000"};
  const auto r = run_fdiwn(args(), options);
  expect_full_disk_handled(r, out_, out_);
}

TEST(ReadOnlyFileSystem, RefusedBeforeAnyWork) {
  if (!can_mount_tmpfs()) {
    // Without mount namespaces the read-only case is the permission test of
    // test_cli_batch.cpp (CliPermissions.ReadOnlyOutputFolderFailsBeforeAnyWork).
    std::printf("read-only file system: no mount namespace here; see CliPermissions\n");
    const auto r = run_fdiwn({"upscale", "-i", data_path("kinds/cmyk.jpg"), "-o", "/proc/x.png"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    return;
  }
  TempDir dir;
  make_inputs(dir.file("in"), 1, {32, 32});
  const std::string out = dir.file("out");
  fs::create_directories(out);
  fs::create_directories(dir.file("kept"));
  const auto r = run_on_tmpfs({"upscale", "-i", dir.file("in"), "-o", out, "-s", "2"}, out, "1m",
                              true, dir.file("kept"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(out), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(dir.file("kept")));
}

// --- Interrupted again and again -------------------------------------------------

TEST(Interruptions, RandomKillsThenResumeEqualsAnUninterruptedRun) {
  TempDir dir;
  make_inputs(dir.file("in"), 10, {128, 96});
  const std::vector<std::string> cmd = {"upscale", "-i", dir.file("in"), "-o", dir.file("out"),
                                        "-s",      "2"};
  std::mt19937 rng(20261125);  // fixed: the same points on every run of the test
  std::uniform_int_distribution<int> delay_ms(100, 1800);
  const int signals[] = {SIGINT, SIGTERM, SIGKILL};
  int interrupted = 0;
  for (int attempt = 0; attempt < 6; ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    CliProcess p(cmd);
    const int sig = signals[attempt % 3];
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    p.signal(sig);
    const auto r = p.wait();
    // Done before the signal, stopped cleanly, or killed outright.
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 130 || r.exit_code == 128 + SIGKILL)
        << r.exit_code << "\n"
        << r.err;
    interrupted += r.exit_code != 0;
    EXPECT_TRUE(temporaries(dir.path()).empty());
    if (fs::exists(dir.file("out"))) expect_complete_outputs(dir.file("out"), 256);
  }
  EXPECT_GE(interrupted, 3) << "the signals came too late to interrupt anything";
  const auto finish = run_fdiwn(cmd);
  ASSERT_EQ(finish.exit_code, 0) << finish.err;
  const auto fresh =
      run_fdiwn({"upscale", "-i", dir.file("in"), "-o", dir.file("fresh"), "-s", "2"});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  for (int i = 0; i < 10; ++i) {
    const std::string name = "img" + std::to_string(i) + ".png";
    SCOPED_TRACE(name);
    EXPECT_EQ(read_file(dir.file("out/" + name)), read_file(dir.file("fresh/" + name)));
  }
}

// --- Memory -----------------------------------------------------------------------

TEST(MemoryBudget, BoundsABatchOfLargeImages) {
  TempDir dir;
  make_inputs(dir.file("in"), 3, {640, 400});
  // A whole-image pass of one of these is planned at ~670 MB at x2.
  const auto r = run_fdiwn({"upscale", "-i", dir.file("in"), "-o", dir.file("out"), "-s", "2",
                            "--max-memory", "560M", "-v"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("chop ("), std::string::npos) << r.err;
  std::printf("peak RSS with --max-memory 560M: %ld MiB\n", r.peak_rss_kib / 1024);
  EXPECT_LT(r.peak_rss_kib, 560L * 1024);
}

TEST(DecompressionBombs, RefusedFromTheHeaderWithoutAllocating) {
  TempDir dir;
  // Headers that claim enormous images, in three formats.
  std::vector<unsigned char> jpeg;
  cv::imencode(".jpg", textured(16, 16, 1), jpeg);
  for (size_t i = 2; i + 8 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {  // SOF0: height, width at +5
      jpeg[i + 5] = jpeg[i + 6] = jpeg[i + 7] = jpeg[i + 8] = 0xFF;
      break;
    }
  }
  write_file(dir.file("huge.jpg"), std::string(jpeg.begin(), jpeg.end()));
  fs::copy_file(data_path("kinds/bomb.png"), dir.file("huge.png"));
  // PPM: the header is text.
  write_file(dir.file("huge.ppm"), "P6\n90000 90000\n255\n" + std::string(64, '\x7f'));
  const auto r = run_fdiwn({"upscale", "-i", dir.file("huge.jpg"), dir.file("huge.png"),
                            dir.file("huge.ppm"), "-o", dir.file("out")});
  EXPECT_EQ(r.exit_code, 1);
  for (const char* name : {"huge.jpg", "huge.png", "huge.ppm"}) {
    // Too large by its header, or (the PPM) shorter than its header says:
    // either way refused before decoding.
    const bool refused = r.err.find(std::string(name) + ": the image is") != std::string::npos ||
                         r.err.find(std::string(name) + ": truncated") != std::string::npos;
    EXPECT_TRUE(refused) << name << "\n" << r.err;
  }
  // Nothing near the claimed size was ever allocated.
  EXPECT_LT(r.peak_rss_kib, 1024L * 1024);
}

}  // namespace
}  // namespace fdiwn::test
