// Video through ffmpeg (--frames): Debian's ffmpeg (installed by the test
// command) makes a 10-frame clip with sound, the README's pipeline runs on
// it, and damaged, lying, empty and early-closed streams end with a clear
// error, the right exit code and only whole frames written.
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include "cli_files.hpp"
#include "cli_runner.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;

// 64x48 at 10 fps: a P6 frame is a 13-byte header and 9216 bytes of pixels,
// 128x96 after x2 (14 + 36864).
constexpr size_t kFrameIn = 13 + 64 * 48 * 3;
constexpr size_t kFrameOut = 14 + 128 * 96 * 3;

CliResult shell(const std::string& script) {
  return run_command({"bash", "-c", "set -o pipefail; " + script});
}

std::string single_quoted(const std::string& s) {
  return "'" + s + "'";
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

class Video : public ::testing::Test {
 protected:
  void SetUp() override {
    clip_ = dir_.file("clip.mp4");
    const CliResult made = shell(
        "ffmpeg -v error -f lavfi -i testsrc=size=64x48:rate=10 -f lavfi -i "
        "sine=frequency=440:sample_rate=44100 -t 1 -c:v libx264 -pix_fmt yuv420p -c:a aac "
        "-shortest " +
        single_quoted(clip_));
    ASSERT_EQ(made.exit_code, 0) << "ffmpeg (Debian's ffmpeg) is needed: " << made.err;
    frames_ = dir_.file("frames.ppm");
    ASSERT_EQ(shell("ffmpeg -v error -i " + single_quoted(clip_) + " -f image2pipe -c:v ppm - > " +
                    single_quoted(frames_))
                  .exit_code,
              0);
    ASSERT_EQ(fs::file_size(frames_), 10 * kFrameIn);
  }

  // fdiwn on `input` (a shell redirection or pipeline feeding it) to `out`.
  CliResult frames(const std::string& feed, const std::string& out, const std::string& extra = "") {
    return shell(feed + " | " + single_quoted(fdiwn_path()) +
                 " upscale -i - -o - --frames -s 2 -f ppm " + extra + " > " + single_quoted(out));
  }

  std::string probe(const std::string& video, const std::string& entries) {
    const CliResult r = run_command({"ffprobe", "-v", "error", "-count_frames", "-show_entries",
                                     entries, "-of", "csv=p=0", video});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  TempDir dir_;
  std::string clip_, frames_;
};

TEST_F(Video, FramesMatchTheSingleImagePathAndKeepTheSound) {
  // The README's pipeline, with a lossless encode at the end so that what
  // is left of the difference is the colour conversion's.
  const std::string out = dir_.file("out.mp4");
  const CliResult r = shell(
      "ffmpeg -v error -i " + single_quoted(clip_) + " -f image2pipe -c:v ppm - | " +
      single_quoted(fdiwn_path()) +
      " upscale -i - -o - --frames -s 2 -f ppm --frame-count 10 | ffmpeg -v error -f image2pipe "
      "-c:v ppm -framerate 10 -i - -i " +
      single_quoted(clip_) +
      " -map 0:v -map '1:a?' -c:a copy -c:v libx264 -crf 0 -pix_fmt yuv444p " + single_quoted(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("10 frames written"), std::string::npos) << r.err;
  EXPECT_EQ(probe(out, "stream=codec_type,width,height"), "video,128,96\naudio\n");
  // Ten frames, and the sound copied from the source as it was.
  const std::string frames_read = "stream=codec_type,nb_read_frames";
  EXPECT_EQ(probe(out, frames_read), "video,10\n" + probe(clip_, frames_read).substr(9));
  // Frame 5 against the single-image path on the same frame: equal on the
  // pipe, and within the conversion to YUV 4:4:4 and back after ffmpeg.
  const auto frame5 = [&](const std::string& video, const std::string& png) {
    ASSERT_EQ(run_command({"ffmpeg", "-v", "error", "-i", video, "-vf", "select=eq(n\\,4)",
                           "-frames:v", "1", png})
                  .exit_code,
              0);
  };
  frame5(clip_, dir_.file("f5.png"));
  ASSERT_EQ(
      run_fdiwn({"upscale", "-i", dir_.file("f5.png"), "-o", dir_.file("ref5.png"), "-s", "2"})
          .exit_code,
      0);
  const cv::Mat ref = read_unchanged(dir_.file("ref5.png"));
  frame5(out, dir_.file("out5.png"));
  const double after_ffmpeg = psnr(read_unchanged(dir_.file("out5.png")), ref);
  EXPECT_GT(after_ffmpeg, 45.0);  // 53.5 dB measured
  std::cerr << "frame 5 after ffmpeg's YUV 4:4:4: PSNR " << after_ffmpeg << " dB\n";
  ASSERT_EQ(frames("cat " + single_quoted(frames_), dir_.file("up.ppm")).exit_code, 0);
  const std::string up = read_bytes(dir_.file("up.ppm"));
  ASSERT_EQ(up.size(), 10 * kFrameOut);
  std::ofstream(dir_.file("up5.ppm"), std::ios::binary) << up.substr(4 * kFrameOut, kFrameOut);
  EXPECT_TRUE(images_match(read_unchanged(dir_.file("up5.ppm")), ref, 0, 1.0));
}

TEST_F(Video, TheReadmesPipelineRunsAsWritten) {
  // The block under "Video through ffmpeg", from its first line to
  // out.mp4, run in a folder holding in.mp4, with this fdiwn first on PATH.
  const std::string readme = read_bytes(FDIWN_README);
  const size_t begin = readme.find("fps=$(ffprobe");
  const size_t end = readme.find("out.mp4\n", begin);
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  fs::copy_file(clip_, dir_.file("in.mp4"));
  const std::string bin = fs::path(fdiwn_path()).parent_path().string();
  const CliResult r =
      shell("cd " + single_quoted(dir_.path()) + " && export PATH=" + single_quoted(bin) +
            ":\"$PATH\" && set -e && " + readme.substr(begin, end + 7 - begin));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(probe(dir_.file("out.mp4"), "stream=codec_type,width,height,nb_read_frames"),
            "video,128,96,10\n" + probe(clip_, "stream=codec_type,nb_read_frames").substr(9));
}

TEST_F(Video, DamagedStreamsEndAfterTheLastWholeFrame) {
  struct Case {
    const char* name;
    std::string feed;
    std::string extra;
    std::string message;
    size_t whole_frames;
  };
  const std::string all = single_quoted(frames_);
  const std::vector<Case> cases = {
      {"cut inside frame 3", "head -c " + std::to_string(2 * kFrameIn + 500) + " " + all, "",
       "standard input, frame 3: the stream ends inside the frame (487 of 9216 bytes", 2},
      {"cut inside frame 2's header", "head -c " + std::to_string(kFrameIn + 5) + " " + all, "",
       "frame 2: the stream ends inside the frame's header", 1},
      {"frame 2 claims another size",
       "{ head -c " + std::to_string(kFrameIn) + " " + all +
           "; printf 'P6\\n32 24\\n255\\n'; head -c 2304 /dev/zero; }",
       "", "frame 2: the frame is 32x24 P6 8-bit, unlike the first (64x48 P6 8-bit)", 1},
      {"frame 2 claims 60000x60000",
       "{ head -c " + std::to_string(kFrameIn) + " " + all +
           "; printf 'P6\\n60000 60000\\n255\\n'; head -c 9216 /dev/zero; }",
       "",
       "frame 2: the frame is 60000x60000 (3600.0 MP), more than the 100.0 MP allowed "
       "(--max-pixels)",
       1},
      {"over --max-pixels", "cat " + all, "--max-pixels 3000",
       "frame 1: the frame is 64x48 (3,072 pixels), more than the 3,000 pixels allowed "
       "(--max-pixels)",
       0},
      {"empty", "cat /dev/null", "", "standard input, frame 1: the stream is empty", 0},
      {"not PNM", "printf 'GIF89a'", "", "frame 1: not a binary PNM frame", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string out = dir_.file("out.ppm");
    const CliResult r = frames(c.feed, out, c.extra);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(fs::file_size(out), c.whole_frames * kFrameOut);
  }
}

// Found by hand: --frame-count 1 on a longer stream said "frame 2 of 1",
// and a wrong count was never mentioned.
TEST_F(Video, AWrongFrameCountIsSaidAndNotShownAsProgress) {
  struct Case {
    const char* count;
    const char* message;
  };
  for (const Case& c : {Case{"3", "--frame-count 3 was not the stream's length: 10 frames were"},
                        Case{"20", "--frame-count 20 was not the stream's length: 10 frames"}}) {
    SCOPED_TRACE(c.count);
    const std::string out = dir_.file("out.ppm");
    const CliResult r =
        frames("cat " + single_quoted(frames_), out, std::string("--frame-count ") + c.count);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(fs::file_size(out), 10 * kFrameOut);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(std::string("frame 4 of ") + c.count), std::string::npos) << r.err;
  }
  const CliResult right =
      frames("cat " + single_quoted(frames_), dir_.file("right.ppm"), "--frame-count 10");
  ASSERT_EQ(right.exit_code, 0) << right.err;
  EXPECT_EQ(right.err.find("was not the stream's length"), std::string::npos) << right.err;
  const CliResult huge = frames("cat " + single_quoted(frames_), dir_.file("huge.ppm"),
                                "--frame-count 99999999999999999999");
  EXPECT_EQ(huge.exit_code, 2) << huge.err;
  EXPECT_NE(huge.err.find("not in range"), std::string::npos) << huge.err;
}

TEST_F(Video, AReaderThatClosesEarlyEndsTheStream) {
  const CliResult r = shell("cat " + single_quoted(frames_) + " | " + single_quoted(fdiwn_path()) +
                            " upscale -i - -o - --frames -s 2 -f ppm | head -c 100 > /dev/null; "
                            "exit ${PIPESTATUS[1]}");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("standard output: the reader closed it"), std::string::npos) << r.err;
}

TEST_F(Video, AStopEndsTheStreamAfterTheLastWholeFrame) {
  // One frame comes, then the writer keeps the pipe open: fdiwn writes that
  // frame and waits for the next, then SIGTERM ends it.
  const std::string fifo = dir_.file("in.fifo"), out = dir_.file("out.ppm");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  CliProcess writer = CliProcess::command({"sh", "-c",
                                           "exec > " + single_quoted(fifo) + "; head -c " +
                                               std::to_string(kFrameIn) + " " +
                                               single_quoted(frames_) + "; exec sleep 60"});
  CliProcess fdiwn = CliProcess::command({"sh", "-c",
                                          "exec " + single_quoted(fdiwn_path()) +
                                              " upscale -i - -o - --frames -s 2 -f ppm < " +
                                              single_quoted(fifo) + " > " + single_quoted(out)});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((!fs::exists(out) || fs::file_size(out) < kFrameOut) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(fs::file_size(out), kFrameOut);
  fdiwn.signal(SIGTERM);
  const CliResult r = fdiwn.wait();
  writer.signal(SIGKILL);
  writer.wait();
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.err.find("1 frame written"), std::string::npos) << r.err;
  EXPECT_EQ(fs::file_size(out), kFrameOut);
}

TEST_F(Video, FramesNeedStandardInputAndOutput) {
  const CliResult r =
      run_fdiwn({"upscale", "-i", frames_, "-o", dir_.file("o.ppm"), "--frames", "-s", "2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("use -i - -o -"), std::string::npos) << r.err;
  // -f is checked as for one image through a pipe, before any frame is read.
  const CliResult format =
      shell(single_quoted(fdiwn_path()) + " upscale -i - -o - --frames -f xyz < /dev/null");
  EXPECT_EQ(format.exit_code, 2);
  EXPECT_NE(format.err.find("--format xyz: cannot write that format"), std::string::npos)
      << format.err;
}

}  // namespace
}  // namespace fdiwn::test
