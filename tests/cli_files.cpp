#include "cli_files.hpp"

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace fdiwn::test {

namespace fs = std::filesystem;

// A smooth test picture (network outputs on noise say little).
cv::Mat picture(int w, int h, int type) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      m.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uchar>(40 + 7 * x % 180), static_cast<uchar>(30 + 9 * y % 200),
                    static_cast<uchar>(60 + 3 * (x + y) % 150));
    }
  }
  cv::Mat out;
  const int depth = CV_MAT_DEPTH(type), channels = CV_MAT_CN(type);
  if (channels == 1) cv::cvtColor(m, m, cv::COLOR_BGR2GRAY);
  if (channels == 4) {
    cv::cvtColor(m, m, cv::COLOR_BGR2BGRA);
    // Alpha: transparent left third, opaque right third, a ramp between.
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const int a = x < w / 3 ? 0 : x >= 2 * w / 3 ? 255 : 255 * (x - w / 3) / (w / 3);
        m.at<cv::Vec4b>(y, x)[3] = static_cast<uchar>(a);
      }
    }
  }
  m.convertTo(out, depth, depth == CV_16U ? 257.0 : 1.0);
  if (depth == CV_16U) out += cv::Scalar::all(77);  // not a multiple of 257
  return out;
}

void write_image(const std::string& path, const cv::Mat& m) {
  ASSERT_TRUE(cv::imwrite(path, m)) << path;
}

cv::Mat read_unchanged(const std::string& path) {
  return cv::imread(path, cv::IMREAD_UNCHANGED);
}

void make_accessible(const std::string& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    fs::permissions(e.path(), fs::perms::all, fs::perm_options::add);
  }
  fs::permissions(dir, fs::perms::all, fs::perm_options::add);
}

nlohmann::json parse_json(const CliResult& r) {
  try {
    return nlohmann::json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not JSON: " << e.what() << "\n" << r.out;
    return nlohmann::json::object();
  }
}

// The JSON record of the file whose input ends with `name`.
nlohmann::json file_record(const nlohmann::json& doc, const std::string& name) {
  for (const auto& f : doc.at("files")) {
    const std::string in = f.at("input");
    if (in.size() >= name.size() && in.compare(in.size() - name.size(), name.size(), name) == 0) {
      return f;
    }
  }
  ADD_FAILURE() << "no record for " << name;
  return nlohmann::json::object();
}

std::vector<std::string> leftover_temporaries(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().find(".fdiwn-") != std::string::npos) {
      found.push_back(e.path().string());
    }
  }
  return found;
}

double psnr(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat fa, fb;
  a.convertTo(fa, CV_64F, a.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
  b.convertTo(fb, CV_64F, b.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
  const double mse =
      cv::norm(fa, fb, cv::NORM_L2SQR) / static_cast<double>(fa.total() * fa.channels());
  return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

std::string noise_image(const TempDir& dir, const std::string& name, int w, int h) {
  const std::string path = dir.file(name);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  cv::Mat m(h, w, CV_8UC3);
  cv::randu(m, 0, 255);
  EXPECT_TRUE(cv::imwrite(path, m));
  return path;
}

void expect_error(const CliResult& r, int code, const std::string& needle) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

}  // namespace fdiwn::test
