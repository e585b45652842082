// The Upscaler facade: types, sizes, small images, self-ensemble.
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <ATen/Parallel.h>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "fdiwn/errors.hpp"
#include "fdiwn/upscaler.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

Upscaler make_upscaler(int scale, bool tta = false) {
  UpscalerOptions options;
  options.scale = scale;
  options.weights_path = weights_path(scale);
  options.tta = tta;
  return Upscaler(options);
}

cv::Mat sample_lr(int scale) {
  return cv::imread(data_path("Set5/LR/x" + std::to_string(scale) + "/butterfly.png"));
}

TEST(Upscaler, KeepsDepthAndScalesSize) {
  for (int scale : {2, 3, 4}) {
    SCOPED_TRACE("x" + std::to_string(scale));
    const Upscaler up = make_upscaler(scale);
    const cv::Mat lr = sample_lr(scale)(cv::Rect(0, 0, 23, 17)).clone();
    const cv::Mat sr8 = up.upscale(lr);
    EXPECT_EQ(sr8.type(), CV_8UC3);
    EXPECT_EQ(sr8.size(), cv::Size(23 * scale, 17 * scale));

    // 16 bits: the same image scaled by 257 gives the 8-bit result x257,
    // give or take the rounding of the last 8-bit level.
    cv::Mat lr16;
    lr.convertTo(lr16, CV_16U, 257.0);
    const cv::Mat sr16 = up.upscale(lr16);
    ASSERT_EQ(sr16.type(), CV_16UC3);
    cv::Mat back;
    sr16.convertTo(back, CV_8U, 1.0 / 257.0);
    EXPECT_TRUE(images_match(back, sr8, 1, 0.99));

    // Float in, float out: rounding it gives the 8-bit result exactly.
    cv::Mat lrf;
    lr.convertTo(lrf, CV_32F);
    const cv::Mat srf = up.upscale(lrf);
    ASSERT_EQ(srf.type(), CV_32FC3);
    cv::Mat rounded;
    srf.convertTo(rounded, CV_8U);  // saturating round to nearest
    EXPECT_TRUE(images_match(rounded, sr8, 0, 1.0));
  }
}

TEST(Upscaler, TinyImagesInBothModes) {
  const Upscaler up = make_upscaler(2);
  const cv::Mat lr = sample_lr(2);
  for (const cv::Size size : {cv::Size(1, 1), cv::Size(1, 7), cv::Size(9, 2), cv::Size(19, 21)}) {
    for (const Mode mode : {Mode::Whole, Mode::Chop}) {
      SCOPED_TRACE(std::to_string(size.width) + "x" + std::to_string(size.height) + " " +
                   to_string(mode));
      const cv::Mat sr = up.upscale(lr(cv::Rect(cv::Point(40, 40), size)).clone(), mode);
      EXPECT_EQ(sr.size(), size * 2);
    }
  }
}

TEST(Upscaler, ImagesInARowGiveWhatEachGivesAlone) {
  // The engine keeps its feature maps from one image to the next of the
  // same size (more than the 64 MiB it kept before at this size): nothing
  // of the previous image may show through.
  const Upscaler up = make_upscaler(2);
  const cv::Mat lr = sample_lr(2);  // 128x128
  cv::Mat a, b;
  cv::resize(lr, a, cv::Size(384, 256), 0, 0, cv::INTER_CUBIC);
  cv::flip(a, b, -1);
  const cv::Mat small = lr(cv::Rect(0, 0, 100, 90)).clone();
  const cv::Mat b_alone = make_upscaler(2).upscale(b, Mode::Whole);
  up.upscale(a, Mode::Whole);
  EXPECT_TRUE(images_match(up.upscale(b, Mode::Whole), b_alone, 0, 1.0)) << "after a";
  const cv::Mat small_alone = make_upscaler(2).upscale(small, Mode::Whole);
  EXPECT_TRUE(images_match(up.upscale(small, Mode::Whole), small_alone, 0, 1.0)) << "after b";
  EXPECT_TRUE(images_match(up.upscale(b, Mode::Whole), b_alone, 0, 1.0)) << "after small";
}

// Resident memory of this process, in MiB.
double resident_mib() {
  long pages = 0, resident = 0;
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  const int read = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return read == 2 ? resident * (::sysconf(_SC_PAGESIZE) / 1024.0) / 1024 : -1;
}

TEST(Upscaler, ReleaseMemoryGivesAllTheMapsBack) {
  Upscaler up = make_upscaler(2);
  up.upscale(sample_lr(2)(cv::Rect(0, 0, 16, 16)), Mode::Whole);  // libraries, kernels
  cv::Mat lr;
  cv::resize(sample_lr(2), lr, cv::Size(512, 512), 0, 0, cv::INTER_CUBIC);
  const double before = resident_mib();
  const cv::Mat first = up.upscale(lr, Mode::Whole);
  const double kept = resident_mib();
  up.release_memory();
  const double released = resident_mib();
  SCOPED_TRACE("resident MiB: " + std::to_string(before) + " before, " + std::to_string(kept) +
               " with the maps kept, " + std::to_string(released) + " after release_memory()");
  EXPECT_GT(kept - before, 200);     // about 1 KB per LR pixel: 256 MiB
  EXPECT_LT(released - before, 40);  // all of it, not 64 MiB kept
  EXPECT_TRUE(images_match(up.upscale(lr, Mode::Whole), first, 0, 1.0));
}

TEST(Upscaler, ChopAndWholeAgreeClosely) {
  // The attention uses whole-input statistics, so chop differs, but only
  // slightly on a natural image.
  const Upscaler up = make_upscaler(2);
  const cv::Mat lr = sample_lr(2);
  const cv::Mat whole = up.upscale(lr, Mode::Whole), chop = up.upscale(lr, Mode::Chop);
  EXPECT_GT(cv::PSNR(whole, chop), 40.0);
}

TEST(Upscaler, SelfEnsembleIsFlipEquivariant) {
  // Averaging over all 8 flips/transposes makes the result commute with a
  // flip of the input (up to float summation order).
  const Upscaler up = make_upscaler(3, /*tta=*/true);
  const cv::Mat lr = sample_lr(3)(cv::Rect(10, 5, 30, 24)).clone();
  cv::Mat flipped_in, flipped_out;
  cv::flip(lr, flipped_in, 1);
  cv::flip(up.upscale(lr), flipped_out, 1);
  EXPECT_TRUE(images_match(up.upscale(flipped_in), flipped_out, 1, 0.995));
  cv::Mat transposed_out;
  cv::transpose(up.upscale(lr), transposed_out);
  EXPECT_TRUE(images_match(up.upscale(lr.t()), transposed_out, 1, 0.995));
}

TEST(Upscaler, SelfEnsembleDiffersFromSinglePass) {
  const Upscaler plain = make_upscaler(4), tta = make_upscaler(4, true);
  const cv::Mat lr = sample_lr(4);
  const cv::Mat a = plain.upscale(lr), b = tta.upscale(lr);
  EXPECT_GT(compare_images(a, b).max_abs_diff, 0);
  EXPECT_GT(cv::PSNR(a, b), 35.0);
}

TEST(Upscaler, RefusesWhatItCannotUpscale) {
  const Upscaler up = make_upscaler(2);
  EXPECT_THROW(up.upscale(cv::Mat()), InvalidArgument);
  EXPECT_THROW(up.upscale(cv::Mat(8, 8, CV_8UC2, cv::Scalar(3))), InvalidArgument);
  EXPECT_THROW(up.upscale(cv::Mat(8, 8, CV_64FC3, cv::Scalar(3))), InvalidArgument);
  EXPECT_THROW(up.upscale(cv::Mat(8, 8, CV_16SC3, cv::Scalar(3))), InvalidArgument);
}

// Two single-thread Upscalers on two threads at once (the batch's side by
// side): each call runs on its own options' thread count, set for the
// calling thread only and restored after, and the pixels are those of one
// Upscaler on all threads.
TEST(Upscaler, SideBySideOnOneThreadEach) {
  UpscalerOptions options;
  options.scale = 2;
  options.weights_path = weights_path(2);
  options.threads = 2;
  const Upscaler shared(options);
  const cv::Mat lr[2] = {sample_lr(2), cv::imread(data_path("Set5/LR/x2/bird.png"))};
  const cv::Mat expected[2] = {shared.upscale(lr[0]), shared.upscale(lr[1])};
  options.threads = 1;
  cv::Mat got[2];
  int threads_inside[2] = {0, 0}, threads_after[2] = {0, 0};
  std::vector<std::thread> lanes;
  for (int i = 0; i < 2; ++i) {
    lanes.emplace_back([&, i] {
      at::set_num_threads(3);  // whatever the thread had stays
      const Upscaler single(options);
      got[i] = single.upscale(lr[i], Mode::Whole,
                              [&](double) { threads_inside[i] = at::get_num_threads(); });
      threads_after[i] = at::get_num_threads();
    });
  }
  for (auto& t : lanes) t.join();
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE("image " + std::to_string(i));
    EXPECT_EQ(threads_inside[i], 1);
    EXPECT_EQ(threads_after[i], 3);
    EXPECT_TRUE(images_match(got[i], expected[i], 1, 0.999));
  }
}

// set_threads changes the calls after it (the benchmark alternates passes on
// all threads and on one in one process), and the pixels stay the same.
TEST(Upscaler, SetThreadsChangesLaterCalls) {
  Upscaler up = make_upscaler(2);
  const cv::Mat lr = sample_lr(2);
  cv::Mat got[2];
  for (const int threads : {2, 1}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    up.set_threads(threads);
    EXPECT_EQ(up.threads(), threads);
    int inside = 0;
    got[threads - 1] = up.upscale(lr, Mode::Whole, [&](double) { inside = at::get_num_threads(); });
    EXPECT_EQ(inside, threads);
  }
  EXPECT_TRUE(images_match(got[0], got[1], 1, 0.999));
  EXPECT_THROW(up.set_threads(-1), InvalidArgument);
  EXPECT_EQ(up.threads(), 1);
}

TEST(Upscaler, DoesNotTouchItsInput) {
  const Upscaler tta = make_upscaler(2, /*tta=*/true);
  const cv::Mat lr = sample_lr(2)(cv::Rect(0, 0, 16, 12)).clone();
  const cv::Mat before = lr.clone();
  tta.upscale(lr);
  EXPECT_TRUE(images_match(lr, before, 0, 1.0));
}

}  // namespace
}  // namespace fdiwn::test

namespace fdiwn::test {
namespace {

TEST(Paths, EngineAndPlainGiveTheSamePixels) {
  // A real image larger than Set5's, both modes.
  const cv::Mat lr = cv::imread(data_path("Urban100-sample/LR_x4/img_024.png"));
  ASSERT_FALSE(lr.empty());
  UpscalerOptions options;
  options.scale = 4;
  options.weights_path = weights_path(4);
  const Upscaler engine(options);
  options.path = Path::Plain;
  const Upscaler plain(options);
  for (const Mode mode : {Mode::Whole, Mode::Chop}) {
    SCOPED_TRACE(to_string(mode));
    const auto a = engine.upscale(lr, mode), b = plain.upscale(lr, mode);
    const auto agreement = compare_images(a, b);
    std::printf("%s: max |diff| %d, identical %.4f%%\n", to_string(mode), agreement.max_abs_diff,
                agreement.identical_share * 100);
    EXPECT_TRUE(images_match(a, b));
  }
}

}  // namespace
}  // namespace fdiwn::test
