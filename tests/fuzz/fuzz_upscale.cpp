// libFuzzer target: arbitrary bytes as an image file, through the whole path
// `fdiwn upscale` takes with a file (the same batch code the command runs):
// the output checks, the bounded read, the header checks, decoding, the
// network, fitting to the output format, encoding and the safe write. It
// must end with either a complete output that decodes to twice the input's
// size, or a one-line error naming the file and no output; never a crash,
// a hang or a temporary file left behind.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cli/batch/batch.hpp"
#include "fdiwn/upscaler.hpp"

namespace {

namespace fs = std::filesystem;

struct Quiet : fdiwn::cli::BatchObserver {
  void started(size_t, const fdiwn::cli::Job&, cv::Size, const fdiwn::RunPlan&, int) override {}
  void progress(double) override {}
  void finished(size_t, const fdiwn::cli::FileResult&) override {}
};

std::unique_ptr<fdiwn::Upscaler> g_upscaler;
fs::path g_dir;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  fdiwn::UpscalerOptions options;
  options.scale = 2;
  options.weights_path = FDIWN_FUZZ_WEIGHTS;
  options.threads = 1;
  options.mode = fdiwn::Mode::Auto;
  g_upscaler = std::make_unique<fdiwn::Upscaler>(options);
  std::string dir = (fs::temp_directory_path() / "fdiwn-fuzz-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) std::abort();
  g_dir = dir;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kFormats[] = {"png", "jpg", "webp", "tiff", "bmp", "ppm"};
  const fs::path in = g_dir / "in.img";
  const fs::path out = g_dir / (std::string("out.") + kFormats[size % 6]);
  {
    std::ofstream f(in, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  std::error_code ec;
  fs::remove(out, ec);

  fdiwn::cli::BatchOptions options;
  options.read.max_pixels = 64 * 64;  // as --max-pixels: keeps each run short
  options.max_memory = std::size_t{2} << 30;
  options.read.file.max_bytes = options.max_memory / 2;
  options.mode = fdiwn::Mode::Auto;
  Quiet quiet;
  const fdiwn::cli::Job job{in.string(), out.string(), "in.img", ""};
  const auto results = fdiwn::cli::run_batch(*g_upscaler, {job}, options, quiet);
  if (results.size() != 1) __builtin_trap();
  const auto& r = results[0];
  if (r.status == fdiwn::cli::FileStatus::Done) {
    const cv::Mat written = cv::imread(out.string(), cv::IMREAD_UNCHANGED);
    if (written.empty() || written.cols != 2 * r.input_size.width ||
        written.rows != 2 * r.input_size.height) {
      __builtin_trap();  // a "done" output that is not the complete image
    }
  } else if (r.status == fdiwn::cli::FileStatus::Failed) {
    const bool names_a_file = r.error.find(in.string()) != std::string::npos ||
                              r.error.find(out.string()) != std::string::npos;
    if (!names_a_file || r.error.find('\n') != std::string::npos || fs::exists(out)) {
      __builtin_trap();  // an error that names no file, or a partial output
    }
  } else {
    __builtin_trap();  // nothing cancels or skips here
  }
  for (const auto& e : fs::directory_iterator(g_dir)) {
    if (e.path().filename().string().rfind(".fdiwn-", 0) == 0) __builtin_trap();
  }
  return 0;
}
