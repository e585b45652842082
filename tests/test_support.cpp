#include "test_support.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <opencv2/core.hpp>

namespace fdiwn::test {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "fdiwn-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  // Tests may have removed permissions on purpose; restore them first.
  for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
  }
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

void write_tiff(const std::string& path, const TiffSpec& t) {
  struct Entry {
    uint16_t tag, type;
    uint32_t value;
  };
  const uint32_t data_at = 8, ifd_at = static_cast<uint32_t>(8 + t.data.size() + t.gap);
  const auto size = static_cast<uint32_t>(t.data.size());
  std::vector<Entry> e = {
      {256, 4, t.width}, {257, 4, t.height}, {258, 3, 8}, {259, 3, t.compression}, {262, 3, 1}};
  if (t.tile_width == 0) {
    e.insert(e.end(), {{273, 4, data_at}, {277, 3, 1}, {278, 4, t.rows_per_strip}, {279, 4, size}});
  } else {
    e.insert(e.end(), {{277, 3, 1},
                       {322, 4, t.tile_width},
                       {323, 4, t.tile_length},
                       {324, 4, data_at},
                       {325, 4, size}});
  }
  std::string out = "II*";
  out.push_back('\0');
  const auto u16 = [&](uint32_t v) { out.append({char(v & 0xFF), char((v >> 8) & 0xFF)}); };
  const auto u32 = [&](uint32_t v) { u16(v & 0xFFFF), u16(v >> 16); };
  u32(ifd_at);
  std::ofstream f(path, std::ios::binary);
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
  f.write(t.data.data(), static_cast<std::streamsize>(t.data.size()));
  f.seekp(static_cast<std::streamoff>(ifd_at));  // beyond the end: a hole
  out.clear();
  u16(static_cast<uint32_t>(e.size()));
  for (const auto& x : e) {
    u16(x.tag), u16(x.type), u32(1), u32(x.value);
  }
  u32(0);
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
}

PixelAgreement compare_images(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a.reshape(1), b.reshape(1), diff);
  double max_val = 0;
  cv::minMaxLoc(diff, nullptr, &max_val);
  PixelAgreement r;
  r.max_abs_diff = static_cast<int>(max_val);
  r.identical_share = 1.0 - static_cast<double>(cv::countNonZero(diff)) / diff.total();
  return r;
}

::testing::AssertionResult images_match(const cv::Mat& actual, const cv::Mat& golden, int max_diff,
                                        double min_identical) {
  if (actual.size() != golden.size() || actual.type() != golden.type()) {
    return ::testing::AssertionFailure()
           << "size/type differ: " << actual.cols << "x" << actual.rows << " type " << actual.type()
           << " vs golden " << golden.cols << "x" << golden.rows << " type " << golden.type();
  }
  const PixelAgreement r = compare_images(actual, golden);
  if (r.max_abs_diff > max_diff || r.identical_share < min_identical) {
    return ::testing::AssertionFailure()
           << "max |diff| " << r.max_abs_diff << " (allowed " << max_diff << "), identical "
           << r.identical_share * 100 << "% (need " << min_identical * 100 << "%)";
  }
  return ::testing::AssertionSuccess()
         << "max |diff| " << r.max_abs_diff << ", identical " << r.identical_share * 100 << "%";
}

ScopedEnv::ScopedEnv(const std::string& name, const std::string& value) : name_(name) {
  if (const char* old = std::getenv(name.c_str())) {
    had_ = true;
    old_ = old;
  }
  ::setenv(name.c_str(), value.c_str(), 1);
}

ScopedEnv::~ScopedEnv() {
  if (had_) {
    ::setenv(name_.c_str(), old_.c_str(), 1);
  } else {
    ::unsetenv(name_.c_str());
  }
}

}  // namespace fdiwn::test
