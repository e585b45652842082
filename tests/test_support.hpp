// Helpers shared by the test programs. Data locations come from CMake as
// compile definitions, never guessed from the working directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#ifndef FDIWN_TEST_DATA_DIR
#error "FDIWN_TEST_DATA_DIR must be defined by CMake"
#endif
#ifndef FDIWN_WEIGHTS_DIR
#error "FDIWN_WEIGHTS_DIR must be defined by CMake"
#endif

namespace fdiwn::test {

inline std::string data_path(const std::string& relative) {
  return std::string(FDIWN_TEST_DATA_DIR) + "/" + relative;
}

inline std::string weights_path(int scale) {
  return std::string(FDIWN_WEIGHTS_DIR) + "/FDIWNx" + std::to_string(scale) + ".pt";
}

/// The five Set5 image names.
inline const std::vector<std::string>& set5_names() {
  static const std::vector<std::string> names = {"baby", "bird", "butterfly", "head", "woman"};
  return names;
}

/// An environment variable set for one scope; its old value (or absence)
/// comes back at the end, also when a test fails out of the scope.
class ScopedEnv {
 public:
  ScopedEnv(const std::string& name, const std::string& value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_, old_;
  bool had_ = false;
};

/// A fresh, empty folder under the system temp dir, removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Writes `bytes` to `path` (creating or truncating it).
void write_file(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);

/// A little-endian 8-bit gray TIFF written by hand: one strip or one tile of
/// `data` (stored, or deflated with compression 8), its directory after the
/// data, moved out by `gap` bytes of sparse padding if asked (libtiff also
/// writes the directory last). Lets tests make what no encoder writes.
struct TiffSpec {
  uint32_t width = 16, height = 16;
  uint32_t tile_width = 0, tile_length = 0;  ///< 0: strips
  uint32_t rows_per_strip = 16;
  uint16_t compression = 1;
  std::string data;
  uint64_t gap = 0;
};
void write_tiff(const std::string& path, const TiffSpec& spec);

/// How close an image is to a reference: the largest absolute difference of
/// any channel value and the share of channel values that are identical.
struct PixelAgreement {
  int max_abs_diff = 0;
  double identical_share = 0.0;
};
PixelAgreement compare_images(const cv::Mat& a, const cv::Mat& b);

/// The parity criterion of the project: every value within `max_diff` of
/// the reference and at least `min_identical` of them identical.
::testing::AssertionResult images_match(const cv::Mat& actual, const cv::Mat& golden,
                                        int max_diff = 1, double min_identical = 0.999);

}  // namespace fdiwn::test
