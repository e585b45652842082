// What the command's batch tests share: smooth test pictures of any kind,
// reading and writing them, and reading the command's --json.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "cli_runner.hpp"
#include "test_support.hpp"

namespace fdiwn::test {

// A smooth test picture (network outputs on noise say little).
cv::Mat picture(int w, int h, int type);

void write_image(const std::string& path, const cv::Mat& m);

cv::Mat read_unchanged(const std::string& path);

void make_accessible(const std::string& dir);

nlohmann::json parse_json(const CliResult& r);

// The JSON record of the file whose input ends with `name`.
nlohmann::json file_record(const nlohmann::json& doc, const std::string& name);

std::vector<std::string> leftover_temporaries(const std::string& dir);

// A w x h colour image of noise at `name` in `dir` (folders made); its path.
std::string noise_image(const TempDir& dir, const std::string& name, int w = 24, int h = 16);

// Expects the exit code `code` and `needle` in standard error.
void expect_error(const CliResult& r, int code, const std::string& needle);

// PSNR in dB on the 8-bit scale (16-bit images divided by 257); 99 if equal.
double psnr(const cv::Mat& a, const cv::Mat& b);

}  // namespace fdiwn::test
