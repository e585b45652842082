// Every command that reads or writes files, given each kind of path that is
// not a plain file where a file is expected: a FIFO, an endless device, a
// socket, a symbolic link loop, a dangling link and a folder with an image's
// name. Whatever the role, fdiwn must end (never block), name the path and
// the reason, exit with the documented code, and leave the path as it was.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cli_runner.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;

enum class Kind { Fifo, Device, Socket, Loop, Dangling, Folder };

const char* name_of(Kind k) {
  switch (k) {
    case Kind::Fifo:
      return "Fifo";
    case Kind::Device:
      return "Device";
    case Kind::Socket:
      return "Socket";
    case Kind::Loop:
      return "Loop";
    case Kind::Dangling:
      return "Dangling";
    case Kind::Folder:
      break;
  }
  return "Folder";
}

// What the path is, to check that fdiwn left it so.
std::string kind_now(const std::string& path) {
  std::error_code ec;
  const auto link = fs::symlink_status(path, ec);
  if (fs::is_symlink(link)) {
    const auto target = fs::read_symlink(path, ec);
    return "link to " + target.string();
  }
  if (fs::is_fifo(link)) return "fifo";
  if (fs::is_socket(link)) return "socket";
  if (fs::is_directory(link)) return "folder";
  if (fs::exists(link)) return "other";
  return "missing";
}

class SpecialFile : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.file("H"));
    fs::create_directories(dir_.file("S"));
    cv::Mat m(24, 24, CV_8UC3);
    cv::randu(m, 0, 255);
    ASSERT_TRUE(cv::imwrite(dir_.file("good.png"), m));
    ASSERT_TRUE(cv::imwrite(dir_.file("H/thing.png"), m));
    fs::create_directories(dir_.file("in"));
    fs::copy_file(dir_.file("good.png"), dir_.file("in/good.png"));
  }
  void TearDown() override {
    if (socket_fd_ >= 0) ::close(socket_fd_);
  }

  // Makes the special path `dir/name` of this test's kind.
  std::string make(const std::string& name) {
    const std::string path = dir_.file(name);
    switch (GetParam()) {
      case Kind::Fifo:
        EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0);
        break;
      case Kind::Device:
        fs::create_symlink("/dev/zero", path);
        break;
      case Kind::Socket: {
        socket_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        EXPECT_EQ(::bind(socket_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        break;
      }
      case Kind::Loop:
        fs::create_symlink(path, path);
        break;
      case Kind::Dangling:
        fs::create_symlink(dir_.file("nowhere"), path);
        break;
      case Kind::Folder:
        fs::create_directories(path);
        break;
    }
    return path;
  }

  // Runs fdiwn; checks that it ended with `code`, named `path` if it failed,
  // left `path` as it was and no temporary file behind.
  void check(const std::vector<std::string>& args, const std::string& path, int code) {
    SCOPED_TRACE(args[0] + " " + args[1] + " ... with " + path);
    const std::string before = kind_now(path);
    CliOptions o;
    o.deadline_seconds = 120;
    const auto r = run_fdiwn(args, o);
    EXPECT_FALSE(r.timed_out) << "blocked";
    EXPECT_EQ(r.exit_code, code) << r.err;
    if (code != 0) {
      EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
    }
    EXPECT_EQ(kind_now(path), before);
    EXPECT_FALSE(fs::exists(dir_.file("nowhere"))) << "a dangling link's target was created";
    for (const auto& e : fs::recursive_directory_iterator(dir_.path())) {
      EXPECT_EQ(e.path().filename().string().find(".fdiwn-"), std::string::npos) << e.path();
    }
  }

  bool folder() const { return GetParam() == Kind::Folder; }

  TempDir dir_;
  int socket_fd_ = -1;
};

TEST_P(SpecialFile, AsUpscaleInput) {
  const std::string x = make("x.png");
  // A folder given as -i is a folder of inputs (empty here): nothing to do.
  check({"upscale", "-i", x, "-o", dir_.file("out.png"), "-s", "2"}, x, folder() ? 0 : 1);
}

TEST_P(SpecialFile, InsideAnInputFolder) {
  const std::string x = make("in/x.png");
  const auto r = run_fdiwn({"upscale", "-i", dir_.file("in"), "-o", dir_.file("out"), "-s", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir_.file("out/good.png")));
  EXPECT_NE(r.err.find(x + ": "), std::string::npos) << "not noted:\n" << r.err;
}

TEST_P(SpecialFile, AsUpscaleOutput) {
  const std::string x = make("x.png");
  // A folder given as -o receives the image; nothing else can be written.
  check({"upscale", "-i", dir_.file("good.png"), "-o", x, "-s", "2"}, x, folder() ? 0 : 1);
  if (folder()) {
    EXPECT_TRUE(fs::exists(x + "/good.png"));
  }
}

TEST_P(SpecialFile, AsWeights) {
  const std::string x = make("w.pt");
  check({"upscale", "-i", dir_.file("good.png"), "-o", dir_.file("o.png"), "-s", "2", "-w", x}, x,
        3);
  EXPECT_FALSE(fs::exists(dir_.file("o.png")));
}

TEST_P(SpecialFile, AsAFolderOfImages) {
  const std::string x = make("HR");
  check({"metrics", "--hr", x, "--sr", dir_.file("S"), "-s", "2"}, x, 2);
}

TEST_P(SpecialFile, AsAnImageToScore) {
  const std::string x = make("S/thing.png");
  // Left out with a note, so the HR image has no partner: that image fails
  // (exit 1), as a method's missing image does.
  check({"metrics", "--hr", dir_.file("H"), "--sr", dir_.file("S"), "-s", "2"}, x, 1);
}

TEST_P(SpecialFile, AsAReport) {
  for (const char* option : {"--csv", "--json"}) {
    const std::string x = make(std::string("report") + option + ".txt");
    // A FIFO nobody reads fails when the report is written (exit 1); what
    // can never be written is refused before the work (exit 2).
    check({"metrics", "--hr", dir_.file("H"), "--sr", dir_.file("H"), "-s", "2", option, x}, x,
          GetParam() == Kind::Fifo ? 1 : 2);
  }
}

TEST_P(SpecialFile, AsTheSaveSrFolder) {
  const std::string x = make("sr");
  check({"bench", "--hr", dir_.file("H"), "-s", "2", "--save-sr", x}, x, folder() ? 0 : 2);
}

TEST_P(SpecialFile, AsAResultToMerge) {
  const std::string x = make("shard.json");
  check({"bench", "--merge", x}, x, 2);
}

INSTANTIATE_TEST_SUITE_P(Kinds, SpecialFile,
                         ::testing::Values(Kind::Fifo, Kind::Device, Kind::Socket, Kind::Loop,
                                           Kind::Dangling, Kind::Folder),
                         [](const auto& info) { return std::string(name_of(info.param)); });

}  // namespace
}  // namespace fdiwn::test
