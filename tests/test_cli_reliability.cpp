// The reproductions of the reliability issue, each as a test on the built
// binary: unbounded reads, headers checked too late, TIFF tiles, PNM maxval,
// corrupt weights, long names, bench writing over its inputs, reports
// replacing special files, unbounded bench/metrics inputs, SIGPIPE, and
// signals before the handlers.
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
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

// Peak memory of an fdiwn process that refused its input: the libraries and
// weights alone take 150-400 MiB; the bugs took 1.2 GB and more.
constexpr long kRefusalPeakKib = 700L * 1024;

std::string small_png(const TempDir& dir, const std::string& name, int w = 24, int h = 16) {
  const std::string path = dir.file(name);
  cv::Mat m(h, w, CV_8UC3);
  cv::randu(m, 0, 255);
  EXPECT_TRUE(cv::imwrite(path, m));
  return path;
}

CliResult run_limited(const std::vector<std::string>& args, int deadline = 120) {
  CliOptions o;
  o.deadline_seconds = deadline;
  return run_fdiwn(args, o);
}

// The first line of stderr, where the user looks.
std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

void expect_refusal(const CliResult& r, int code, const std::string& file,
                    const std::string& reason, long peak_kib = kRefusalPeakKib) {
  EXPECT_FALSE(r.timed_out) << "did not end";
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_NE(first_line(r.err).find(file), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
  EXPECT_LT(r.peak_rss_kib, peak_kib);
}

// 1. Reads of things that never end, or block.
TEST(Reliability, FifoInputIsRefusedWithoutOpeningIt) {
  TempDir dir;
  const std::string fifo = dir.file("x.png");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto r = run_limited({"upscale", "-i", fifo, "-o", dir.file("y.png"), "-s", "2"}, 60);
  expect_refusal(r, 1, fifo, "FIFO");
  EXPECT_FALSE(fs::exists(dir.file("y.png")));
}

TEST(Reliability, EndlessDevicesAreRefusedByType) {
  TempDir dir;
  for (const std::string device : {"/dev/urandom", "/dev/zero"}) {
    SCOPED_TRACE(device);
    const auto r = run_limited({"upscale", "-i", device, "-o", dir.file("y.png"), "-s", "2"}, 60);
    expect_refusal(r, 1, device, "character device");
  }
}

// 2. The header decides before the file is read.
TEST(Reliability, PaddedPngIsRefusedFromItsHeader) {
  TempDir dir;
  const std::string path = small_png(dir, "p.png", 32, 32);
  fs::resize_file(path, std::uintmax_t{1} << 30);
  auto r = run_limited({"upscale", "-i", path, "-o", dir.file("o.png"), "-s", "2", "--max-memory",
                        "420M", "--max-pixels", "1000"});
  expect_refusal(r, 1, path, "--max-pixels");
  r = run_limited(
      {"upscale", "-i", path, "-o", dir.file("o.png"), "-s", "2", "--max-memory", "420M"});
  expect_refusal(r, 1, path, "not read");
}

// 3. TIFF tiles bounded from the header.
std::string deflated_zeros(size_t n) {
  z_stream z{};
  deflateInit(&z, 9);
  const std::vector<unsigned char> zeros(1 << 20, 0);
  std::string out;
  std::vector<unsigned char> buf(1 << 16);
  for (size_t done = 0; done < n || z.avail_in > 0;) {
    if (z.avail_in == 0) {
      const size_t take = std::min(zeros.size(), n - done);
      z.next_in = const_cast<unsigned char*>(zeros.data());
      z.avail_in = static_cast<uInt>(take);
      done += take;
    }
    z.next_out = buf.data();
    z.avail_out = static_cast<uInt>(buf.size());
    deflate(&z, done == n ? Z_FINISH : Z_NO_FLUSH);
    out.append(reinterpret_cast<char*>(buf.data()), buf.size() - z.avail_out);
  }
  for (int rc = Z_OK; rc != Z_STREAM_END;) {
    z.next_out = buf.data();
    z.avail_out = static_cast<uInt>(buf.size());
    rc = deflate(&z, Z_FINISH);
    out.append(reinterpret_cast<char*>(buf.data()), buf.size() - z.avail_out);
  }
  deflateEnd(&z);
  return out;
}

TEST(Reliability, TiffTileBombIsRefusedFromItsDirectory) {
  TempDir dir;
  TiffSpec t;
  t.tile_width = t.tile_length = 16384;
  t.compression = 8;
  t.data = deflated_zeros(size_t{16384} * 16384);  // a real 256 MiB tile, ~261 KB
  const std::string path = dir.file("tile.tif");
  write_tiff(path, t);
  for (const char* max_pixels : {"100M", "1e9"}) {
    SCOPED_TRACE(max_pixels);
    const auto r = run_limited({"upscale", "-i", path, "-o", dir.file("o.png"), "-s", "2",
                                "--max-memory", "420M", "--max-pixels", max_pixels});
    expect_refusal(r, 1, path, "16384x16384");
  }
}

// 4. PNM samples scaled by their maxval.
TEST(Reliability, PgmWithMaxval1000StaysWhite) {
  TempDir dir;
  write_file(dir.file("m.pgm"), "P2\n2 1\n1000\n1000 500\n");
  const auto r = run_limited({"upscale", "-i", dir.file("m.pgm"), "-o", dir.file("o.pgm"), "-s",
                              "2", "--alpha", "bicubic"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const cv::Mat out = cv::imread(dir.file("o.pgm"), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(out.depth(), CV_16U);
  double lo = 0, hi = 0;
  cv::minMaxLoc(out, &lo, &hi);
  EXPECT_GT(hi, 60000) << "white came out as " << hi;  // was about 1000
  EXPECT_GT(lo, 10000) << "the half-grey pixel came out as " << lo;
}

// 5. Weights whose bytes were damaged.
TEST(Reliability, DamagedWeightsAreRefused) {
  TempDir dir;
  std::string bytes = read_file(weights_path(2));
  bytes.replace(bytes.size() / 2, 8, std::string(8, '\x7f'));
  write_file(dir.file("w.pt"), bytes);
  const std::string in = small_png(dir, "in.png");
  const auto r = run_limited(
      {"upscale", "-i", in, "-o", dir.file("o.png"), "-s", "2", "-w", dir.file("w.pt")});
  expect_refusal(r, 3, dir.file("w.pt"), "CRC");
  EXPECT_FALSE(fs::exists(dir.file("o.png")));
}

// 6. Long names: the temporary name always fits, a name that cannot fit
// fails before the work.
TEST(Reliability, LongNamesFitOrFailBeforeTheWork) {
  TempDir dir;
  const std::string fits = small_png(dir, std::string(246, 'a') + ".png");
  const std::string too_long = small_png(dir, std::string(250, 'b') + ".png");
  const auto r = run_limited({"upscale", "-i", fits, too_long, "-o", dir.file("out"), "-s", "2",
                              "--name", "{name}_x{scale}.{ext}", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(fs::exists(dir.file("out/" + std::string(246, 'a') + "_x2.png")));
  const auto doc = nlohmann::json::parse(r.out);
  const auto& failed = doc.at("files").at(1);
  EXPECT_EQ(failed.at("status"), "failed");
  EXPECT_NE(failed.at("error").get<std::string>().find("257 bytes long"), std::string::npos)
      << failed;
  EXPECT_TRUE(failed.at("input_size").is_null()) << "it was read: the check came after the work";
}

// 7. No command writes onto its inputs.
TEST(Reliability, BenchAndMetricsNeverWriteOverTheirInputs) {
  TempDir dir;
  fs::create_directories(dir.file("sv/x2"));
  const std::string hr = dir.file("sv/x2/butterfly.png");
  fs::copy_file(data_path("Set5/HR/x4/butterfly.png"), hr);
  const std::string before = read_file(hr);
  const std::vector<std::vector<std::string>> attempts = {
      {"bench", "--hr", dir.file("sv/x2"), "-s", "2", "--save-sr", dir.file("sv")},
      {"bench", "--hr", dir.file("sv/x{scale}"), "-s", "2", "--save-sr", dir.file("sv")},
      {"bench", "--hr", dir.file("sv/x2"), "-s", "2", "--csv", hr},
      {"metrics", "--hr", dir.file("sv/x2"), "--sr", dir.file("sv/x2"), "-s", "2", "--json", hr},
      {"metrics", "--hr", dir.file("sv/x2"), "--sr", dir.file("sv/x2"), "-s", "2", "--csv",
       dir.file("r.x"), "--json", dir.file("sv/../r.x")},
  };
  for (const auto& args : attempts) {
    SCOPED_TRACE(args.back());
    const auto r = run_limited(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(read_file(hr), before) << "an input was written over";
  }
  write_file(dir.file("shard.json"), "{}");
  const auto r =
      run_limited({"bench", "--merge", dir.file("shard.json"), "--json", dir.file("shard.json")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(read_file(dir.file("shard.json")), "{}");
}

// 8. Reports and images written to special files in place.
TEST(Reliability, ReportsAndImagesNeverReplaceSpecialFiles) {
  TempDir dir;
  fs::create_directories(dir.file("H"));
  fs::copy_file(data_path("Set5/HR/x4/butterfly.png"), dir.file("H/butterfly.png"));
  fs::create_symlink("/dev/null", dir.file("n"));
  fs::create_symlink("/proc/self/fd/1", dir.file("so"));
  const auto r = run_limited({"metrics", "--hr", dir.file("H"), "--sr", dir.file("H"), "-s", "2",
                              "--json", dir.file("n"), "--csv", dir.file("so")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir.file("n"))));
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir.file("so"))));
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  EXPECT_NE(r.out.find("scale,mode,tta,channel"), std::string::npos) << "the CSV went elsewhere";
  if (running_as_root()) {
    // A device node of its own (as root, --json /dev/null once replaced the real one).
    const std::string node = dir.file("null");
    ASSERT_EQ(::mknod(node.c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    const auto again = run_limited(
        {"metrics", "--hr", dir.file("H"), "--sr", dir.file("H"), "-s", "2", "--json", node});
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_TRUE(fs::is_character_file(node));
  }
  const std::string in = small_png(dir, "in.png");
  // Written in place, its format from -f (no extension needed).
  const auto image =
      run_limited({"upscale", "-i", in, "-o", dir.file("n"), "-f", "png", "-s", "2"});
  EXPECT_EQ(image.exit_code, 0) << image.err;
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir.file("n"))));
  fs::create_symlink("/dev/null", dir.file("null.png"));
  const auto discarded = run_limited({"upscale", "-i", in, "-o", dir.file("null.png"), "-s", "2"});
  EXPECT_EQ(discarded.exit_code, 0) << discarded.err;
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir.file("null.png"))));
}

// 9. bench and metrics: pixel limits, and any failure is one file's.
void write_gray_claiming(const std::string& path, int side) {
  // A gray PNG of zeros compresses ~1000:1: a 140 KB file claims 144 MP.
  EXPECT_TRUE(cv::imwrite(path, cv::Mat::zeros(side, side, CV_8UC1)));
}

TEST(Reliability, BenchAndMetricsRefuseHugeImagesFromTheHeader) {
  TempDir dir;
  fs::create_directories(dir.file("HR"));
  fs::create_directories(dir.file("SR"));
  fs::copy_file(data_path("Set5/HR/x4/head.png"), dir.file("HR/head.png"));
  fs::copy_file(data_path("golden/Set5/x4/chop/head.png"), dir.file("SR/head.png"));
  const std::vector<std::string> metrics = {"metrics", "--hr",         dir.file("HR"),
                                            "--sr",    dir.file("SR"), "-s",
                                            "4",       "--json",       dir.file("m.json")};
  const std::vector<std::string> bench = {"bench", "--hr", dir.file("HR"), "-s", "4"};
  // The same runs without the huge image: a refusal from the header may add
  // little to them, while decoding 12000x12000 takes 144 MB and more.
  const auto metrics_alone = run_limited(metrics);
  const auto bench_alone = run_limited(bench);
  ASSERT_EQ(metrics_alone.exit_code, 0) << metrics_alone.err;
  ASSERT_EQ(bench_alone.exit_code, 0) << bench_alone.err;
  write_gray_claiming(dir.file("HR/huge.png"), 12000);
  write_gray_claiming(dir.file("SR/huge.png"), 12000);
  constexpr long kMarginKib = 64L * 1024;

  const auto r = run_limited(metrics);
  expect_refusal(r, 1, dir.file("HR/huge.png"), "--max-pixels",
                 metrics_alone.peak_rss_kib + kMarginKib);
  const auto doc = nlohmann::json::parse(read_file(dir.file("m.json")));
  EXPECT_EQ(doc.at("runs").at(0).at("mean").at("count"), 1) << "the other image was not scored";
  const auto b = run_limited(bench);
  expect_refusal(b, 1, dir.file("HR/huge.png"), "--max-pixels",
                 bench_alone.peak_rss_kib + kMarginKib);
}

// 10. A closed standard output is an error, not a death by SIGPIPE.
TEST(Reliability, ClosedStandardOutputIsAnError) {
  TempDir dir;
  fs::create_directories(dir.file("empty"));
  CliOptions o;
  o.stdout_to_closed_pipe = true;
  o.deadline_seconds = 120;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"upscale", "-i", dir.file("empty"), "-o", dir.file("o"), "--json"},
           {"upscale", "-i", dir.file("empty"), "-o", dir.file("o"), "--json", "--shard", "1/2"},
           {"info", "--json"}}) {
    SCOPED_TRACE(args[0]);
    const auto r = run_fdiwn(args, o);
    EXPECT_EQ(r.exit_code, 1) << r.err;  // 141: killed by SIGPIPE
    EXPECT_NE(r.err.find("cannot write to standard output"), std::string::npos) << r.err;
  }
}

// 11. A stop signal while the libraries and weights load.

// The signal mask `field` ("SigBlk", "SigIgn", "SigCgt") of a running process
// from /proc, or 0 once it has ended.
unsigned long long signal_mask(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0)
      return std::stoull(line.substr(field.size() + 1), nullptr, 16);
  }
  return 0;
}

bool has_signal(unsigned long long mask, int sig) {
  return (mask >> (sig - 1)) & 1U;
}

// Waits until the process runs the fdiwn executable (not the forked test or
// a wrapper such as nohup) and `ready` holds: a signal sent before exec()
// reached fdiwn would only test the kernel's default action.
template <typename Ready>
void wait_for_fdiwn(pid_t pid, Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  const std::string exe = "/proc/" + std::to_string(pid) + "/exe";
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    const auto target = fs::read_symlink(exe, ec).filename();
    if (!ec && target == fs::path(fdiwn_path()).filename() && ready()) return;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ADD_FAILURE() << "fdiwn did not start within 30 s";
}

TEST(Reliability, EarlySignalsEndTheRunCleanly) {
  TempDir dir;
  const std::string in = small_png(dir, "in.png", 64, 64);
  int index = 0;
  // From the first instruction of main() on, while LibTorch loads and the
  // weights are read, and during the work.
  for (const int delay_ms : {0, 20, 50, 80, 120, 160, 220, 300}) {
    SCOPED_TRACE("SIGTERM " + std::to_string(delay_ms) + " ms after main() began");
    const std::string out = dir.file("out" + std::to_string(index++) + ".png");
    CliProcess p({"upscale", "-i", in, "-o", out, "-s", "2"});
    wait_for_fdiwn(p.pid(), [&] {
      return has_signal(signal_mask(p.pid(), "SigBlk") | signal_mask(p.pid(), "SigCgt"), SIGTERM);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    p.signal(SIGTERM);
    const auto r = p.wait();
    // Before the handlers were installed first thing, this was 143.
    if (delay_ms <= 160) {
      EXPECT_EQ(r.exit_code, 130) << r.err;
    }
    EXPECT_TRUE(r.exit_code == 130 || r.exit_code == 0) << r.exit_code << "\n" << r.err;
    if (r.exit_code == 130) {
      EXPECT_FALSE(fs::exists(out));
    }
  }
  // Under nohup, SIGHUP stays ignored: the run completes.
  CliProcess p = CliProcess::command(
      {"nohup", fdiwn_path(), "upscale", "-i", in, "-o", dir.file("nohup.png"), "-s", "2"});
  wait_for_fdiwn(p.pid(), [&] { return has_signal(signal_mask(p.pid(), "SigIgn"), SIGHUP); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  p.signal(SIGHUP);
  const auto r = p.wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir.file("nohup.png")));
}

}  // namespace
}  // namespace fdiwn::test
