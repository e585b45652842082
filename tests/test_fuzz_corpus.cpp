// The fuzz targets' seed corpora and every input a fuzzer ever found a
// problem with (tests/fuzz/regressions), replayed through the same entry
// points in the normal and the sanitizer builds: each must end in a result
// or the documented exception, nothing else.
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fdiwn/errors.hpp"
#include "fdiwn/image_io.hpp"
#include "formats/weights_format.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> inputs(const std::string& kind) {
  std::vector<std::string> files;
  for (const char* dir : {"corpus", "regressions"}) {
    const fs::path p = fs::path(FDIWN_FUZZ_DIR) / dir / kind;
    if (!fs::exists(p)) continue;
    for (const auto& e : fs::directory_iterator(p)) {
      // .gitkeep keeps an empty regressions folder in git; it is not an input.
      if (e.path().filename().string().rfind('.', 0) == 0) continue;
      files.push_back(e.path().string());
    }
  }
  return files;
}

TEST(FuzzCorpus, WeightsInputsEndInAResultOrWeightsError) {
  const auto files = inputs("weights");
  ASSERT_GE(files.size(), 6u);
  int parsed = 0;
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    const std::string bytes = read_file(f);
    try {
      const auto w =
          parse_weights(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), f);
      ++parsed;
      for (const auto& t : w.tensors) {
        ASSERT_GE(t.numel, 0);
        if (t.numel > 0) {
          const auto* begin = reinterpret_cast<const unsigned char*>(bytes.data());
          EXPECT_GE(t.data, begin);
          EXPECT_LE(t.data + t.numel * 4, begin + bytes.size());
        }
      }
    } catch (const WeightsError& e) {
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos);
    }
  }
  EXPECT_GE(parsed, 3);  // the valid seeds parse
}

TEST(FuzzCorpus, SeedWeightsHoldWhatWasSaved) {
  const std::string f = std::string(FDIWN_FUZZ_DIR) + "/corpus/weights/small.pt";
  const std::string bytes = read_file(f);
  const auto w =
      parse_weights(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), f);
  EXPECT_EQ(w.scale, 2);
  EXPECT_EQ(w.source, "seed.pt");
  ASSERT_EQ(w.tensors.size(), 2u);
  EXPECT_EQ(w.tensors[0].name, "head.weight");
  EXPECT_EQ(w.tensors[0].shape, (std::vector<int64_t>{2, 3}));
  float values[6];
  std::memcpy(values, w.tensors[0].data, sizeof values);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(values[i], static_cast<float>(i));
}

TEST(FuzzCorpus, ImageInputsEndInAnImageOrImageErrorLeavingNothing) {
  const auto files = inputs("image");
  ASSERT_GE(files.size(), 10u);
  // Where cv::imdecode copies inputs for decoders that read only files
  // (regressions/image/pfm-opencv-temp-copy stayed there): nothing may be
  // left in it.
  const TempDir opencv_temp;
  const ScopedEnv temp("OPENCV_TEMP_PATH", opencv_temp.path());
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    const std::string bytes = read_file(f);
    ReadOptions options;
    options.max_pixels = 4'000'000;
    try {
      const auto image =
          decode_image(std::vector<unsigned char>(bytes.begin(), bytes.end()), f, options);
      EXPECT_FALSE(image.pixels.empty());
    } catch (const ImageError& e) {
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos);
      // One line: libheif ends some of its messages with a newline (found
      // by fuzz_upscale: regressions/image/heif-message-newline).
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(fs::is_empty(opencv_temp.path()));
}

}  // namespace
}  // namespace fdiwn::test
