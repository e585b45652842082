// FrameReader on a pipe: frames split where the stream says, whatever the
// reads return (tiny frames come in one read with the next one's header),
// samples as PNM has them (RGB order, big-endian 16-bit, any maxval).
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include "fdiwn/errors.hpp"
#include "fdiwn/frame_stream.hpp"

namespace fdiwn::test {
namespace {

// A pipe holding `bytes`, its write end closed: the reader sees them, then
// the end of the stream.
class FedPipe {
 public:
  explicit FedPipe(const std::string& bytes) {
    EXPECT_EQ(::pipe(fds_), 0);
    EXPECT_EQ(::write(fds_[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    ::close(fds_[1]);
  }
  ~FedPipe() { ::close(fds_[0]); }
  int fd() const { return fds_[0]; }

 private:
  int fds_[2] = {-1, -1};
};

std::string ppm_2x1(unsigned char r, unsigned char g, unsigned char b) {
  return "P6\n# a comment\n2 1\n255\n" + std::string{char(r), char(g), char(b), 9, 8, 7};
}

TEST(FrameReader, TinyFramesAreSplitWhereTheStreamSays) {
  FedPipe in(ppm_2x1(1, 2, 3) + ppm_2x1(4, 5, 6) + ppm_2x1(7, 8, 9));
  FrameReader reader(in.fd(), "standard input", {});
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const auto frame = reader.next();
    ASSERT_TRUE(frame);
    ASSERT_EQ(frame->size(), cv::Size(2, 1));
    // BGR in memory, from RGB in the file.
    EXPECT_EQ(frame->at<cv::Vec3b>(0, 0), cv::Vec3b(3 * i + 3, 3 * i + 2, 3 * i + 1));
    EXPECT_EQ(frame->at<cv::Vec3b>(0, 1), cv::Vec3b(7, 8, 9));
  }
  EXPECT_FALSE(reader.next());
  EXPECT_EQ(reader.frames(), 3);
}

TEST(FrameReader, DeepGraySamplesAreScaledToSixteenBits) {
  // P5, maxval 1000, big-endian: 1000 is white, 500 half of it.
  FedPipe in(std::string("P5 2 1 1000\n") +
             std::string{char(0x03), char(0xE8), char(0x01), char(0xF4)});
  FrameReader reader(in.fd(), "standard input", {});
  const auto frame = reader.next();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->type(), CV_16UC1);
  EXPECT_EQ(frame->at<uint16_t>(0, 0), 65535);
  EXPECT_EQ(frame->at<uint16_t>(0, 1), 32768);
}

TEST(FrameReader, BrokenStreamsNameTheFrame) {
  const auto refused = [](const std::string& what, const std::string& bytes,
                          const std::string& message, int64_t max_pixels = 0) {
    SCOPED_TRACE(what);
    FedPipe in(bytes);
    ReadOptions options;
    options.max_pixels = max_pixels;
    FrameReader reader(in.fd(), "standard input", options);
    try {
      while (reader.next()) {
      }
      ADD_FAILURE() << "no error";
    } catch (const ImageError& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  };
  refused("empty", "", "standard input, frame 1: the stream is empty");
  refused("cut", ppm_2x1(1, 2, 3) + "P6 2 1 255\n\x01\x02", "frame 2: the stream ends inside");
  refused("maxval 0", "P6 2 1 0\n", "frame 1: the frame header's maxval is 0");
  refused("zero width", "P6 0 1 255\n", "frame 1: the frame header says it has no pixels");
  refused("ASCII PNM", "P3 2 1 255\n1 2 3 4 5 6\n", "frame 1: not a binary PNM frame");
  refused("no end to the header", "P6 " + std::string(5000, ' '), "no end in its first 4 KiB");
  refused("over max_pixels", "P6 3000 3000 255\n", "frame 1: the frame is 3000x3000", 1000000);
  refused("unlike the first", ppm_2x1(1, 2, 3) + "P5 2 1 255\n\x01\x02",
          "frame 2: the frame is 2x1 P5 8-bit, unlike the first (2x1 P6 8-bit)");
  refused("another maxval", ppm_2x1(1, 2, 3) + "P6 2 1 200\n\x01\x02\x03\x04\x05\x06",
          "frame 2: the frame is 2x1 P6 8-bit (maxval 200), unlike the first (2x1 P6 8-bit)");
}

}  // namespace
}  // namespace fdiwn::test
