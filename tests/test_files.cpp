// The bounded reader and the safe writer (fdiwn/files.hpp): every kind of
// file a path can lead to, size limits, stop requests, and writes that never
// replace what they must not.
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;

// Expects `f` to throw FileError naming `path` with `needle` in the reason.
template <class F>
void expect_file_error(F&& f, const std::string& path, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error for " << path;
  } catch (const FileError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(e.reason().find(needle), std::string::npos) << e.what();
  }
}

// A listening Unix socket at `path`; closed at destruction.
class UnixSocket {
 public:
  explicit UnixSocket(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << path;
  }
  ~UnixSocket() { ::close(fd_); }

 private:
  int fd_ = -1;
};

class SpecialPaths : public ::testing::Test {
 protected:
  void SetUp() override {
    fifo_ = dir_.file("fifo.png");
    ASSERT_EQ(::mkfifo(fifo_.c_str(), 0600), 0);
    dangling_ = dir_.file("dangling.png");
    fs::create_symlink(dir_.file("nowhere.png"), dangling_);
    loop_ = dir_.file("loop.png");
    fs::create_symlink(loop_, loop_);
    folder_ = dir_.file("folder.png");
    fs::create_directories(folder_);
  }
  TempDir dir_;
  std::string fifo_, dangling_, loop_, folder_;
};

TEST_F(SpecialPaths, ReaderRefusesEachByTypeWithoutOpening) {
  // A FIFO would block in open() until a writer comes: the test itself would hang.
  expect_file_error([&] { InputFile f(fifo_); }, fifo_, "FIFO");
  expect_file_error([&] { InputFile f("/dev/zero"); }, "/dev/zero", "character device");
  expect_file_error([&] { InputFile f("/dev/urandom"); }, "/dev/urandom", "character device");
  expect_file_error([&] { InputFile f(dangling_); }, dangling_, "dangling symbolic link");
  expect_file_error([&] { InputFile f(loop_); }, loop_, "loop");
  expect_file_error([&] { InputFile f(folder_); }, folder_, "is a folder");
  expect_file_error([&] { InputFile f(dir_.file("missing.png")); }, dir_.file("missing.png"),
                    "no such file");
  const std::string socket_path = dir_.file("s.png");
  UnixSocket socket(socket_path);
  expect_file_error([&] { InputFile f(socket_path); }, socket_path, "socket");
}

TEST_F(SpecialPaths, WriterRefusesWhatItCannotWriteInPlace) {
  const std::string data = "data";
  expect_file_error([&] { fdiwn::write_file(folder_, data); }, folder_, "is a folder");
  expect_file_error([&] { fdiwn::write_file(dangling_, data); }, dangling_, "dangling");
  expect_file_error([&] { fdiwn::write_file(loop_, data); }, loop_, "loop");
  const std::string socket_path = dir_.file("s.json");
  UnixSocket socket(socket_path);
  expect_file_error([&] { fdiwn::write_file(socket_path, data); }, socket_path, "socket");
  // Nothing was created beside them, and each is still what it was.
  EXPECT_TRUE(fs::is_directory(folder_));
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dangling_)));
  EXPECT_FALSE(fs::exists(dir_.file("nowhere.png")));
  for (const auto& e : fs::directory_iterator(dir_.path())) {
    EXPECT_EQ(e.path().filename().string().find(".fdiwn-"), std::string::npos) << e.path();
  }
}

TEST_F(SpecialPaths, FifoIsWrittenInPlaceAndStaysAFifo) {
  std::string received;
  std::thread reader([&] {
    const int fd = ::open(fifo_.c_str(), O_RDONLY);
    char buf[256];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) received.append(buf, n);
    ::close(fd);
  });
  // The reader may not have opened its end yet: retry until it has.
  bool written = false;
  for (int attempt = 0; attempt < 500 && !written; ++attempt) {
    try {
      fdiwn::write_file(fifo_, std::string("{\"ok\": true}\n"));
      written = true;
    } catch (const FileError& e) {
      ASSERT_NE(e.reason().find("no process is reading"), std::string::npos) << e.what();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  reader.join();
  EXPECT_TRUE(written);
  EXPECT_EQ(received, "{\"ok\": true}\n");
  EXPECT_TRUE(fs::is_fifo(fifo_));
}

TEST_F(SpecialPaths, FifoWithoutReaderFailsAtOnce) {
  expect_file_error([&] { fdiwn::write_file(fifo_, std::string("x")); }, fifo_,
                    "no process is reading");
}

TEST(WriteFile, LinkToDevNullStaysALink) {
  TempDir dir;
  const std::string link = dir.file("null.json");
  fs::create_symlink("/dev/null", link);
  fdiwn::write_file(link, std::string("discarded"));
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(link)));
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
}

TEST(WriteFile, ReplacesARegularFileAtomicallyKeepingItsMode) {
  TempDir dir;
  const std::string path = dir.file("out.csv");
  fdiwn::write_file(path, std::string("old"));
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  fdiwn::write_file(path, std::string("new contents"));
  EXPECT_EQ(read_file(path), "new contents");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(WriteFile, ThroughASymbolicLinkTheLinkStays) {
  TempDir dir;
  const std::string target = dir.file("real.json"), link = dir.file("link.json");
  fdiwn::write_file(target, std::string("old"));
  fs::create_symlink("real.json", link);
  fdiwn::write_file(link, std::string("new"));
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(link)));
  EXPECT_EQ(read_file(target), "new");
}

TEST(WriteFile, LongestNameTheFileSystemAllows) {
  // The temporary name must not repeat the target's name (it did, and a
  // 250-byte name failed after the work).
  TempDir dir;
  const long name_max = ::pathconf(dir.path().c_str(), _PC_NAME_MAX);
  ASSERT_GT(name_max, 10);
  const std::string path = dir.file(std::string(static_cast<size_t>(name_max) - 4, 'a') + ".png");
  EXPECT_FALSE(output_path_problem(path).has_value());
  fdiwn::write_file(path, std::string("x"));
  EXPECT_EQ(read_file(path), "x");
  const std::string too_long = dir.file(std::string(static_cast<size_t>(name_max) + 1, 'b'));
  const auto problem = output_path_problem(too_long);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find(std::to_string(name_max + 1) + " bytes"), std::string::npos) << *problem;
  EXPECT_TRUE(output_path_problem("/" + std::string(PATH_MAX, 'c')).has_value());
}

TEST(ReadFile, SizeLimitRefusesBeforeReading) {
  TempDir dir;
  const std::string path = dir.file("big.png");
  { std::ofstream f(path); }
  fs::resize_file(path, std::uintmax_t{4} << 30);  // sparse: no disk used
  ReadLimits limits;
  limits.max_bytes = 1 << 20;
  limits.max_bytes_reason = "the test's limit";
  expect_file_error([&] { fdiwn::read_file(path, limits); }, path,
                    "more than the test's limit allows");
}

TEST(ReadFile, StopFlagCancelsARead) {
  TempDir dir;
  const std::string path = dir.file("big.bin");
  { std::ofstream f(path); }
  fs::resize_file(path, std::uintmax_t{64} << 20);
  std::atomic<int> polls{0};
  ReadLimits limits;
  limits.stop = [&] { return ++polls > 2; };
  EXPECT_THROW(fdiwn::read_file(path, limits), Cancelled);
  EXPECT_EQ(polls.load(), 3);
}

TEST(ReadFile, HeadAlreadyReadIsKept) {
  TempDir dir;
  const std::string path = dir.file("f.bin");
  fdiwn::write_file(path, std::string("0123456789"));
  const InputFile file(path);
  EXPECT_EQ(file.size(), 10u);
  auto head = file.read_at(0, 4);
  ASSERT_EQ(head.size(), 4u);
  const auto all = file.read_all({}, head);
  EXPECT_EQ(std::string(all.begin(), all.end()), "0123456789");
  EXPECT_EQ(file.read_at(8, 100).size(), 2u);
}

TEST(FileId, HardLinksAreOneFile) {
  TempDir dir;
  fdiwn::write_file(dir.file("a.png"), std::string("x"));
  fs::create_hard_link(dir.file("a.png"), dir.file("b.png"));
  fdiwn::write_file(dir.file("c.png"), std::string("x"));
  ASSERT_TRUE(file_id(dir.file("a.png")).has_value());
  const auto a = *file_id(dir.file("a.png")), b = *file_id(dir.file("b.png")),
             c = *file_id(dir.file("c.png"));
  EXPECT_FALSE(a < b || b < a);
  EXPECT_TRUE(a < c || c < a);
  EXPECT_FALSE(file_id(dir.file("missing")).has_value());
}

}  // namespace
}  // namespace fdiwn::test
