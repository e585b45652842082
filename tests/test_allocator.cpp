// The optimised path's tensor allocator: reuse within an image, nothing kept
// after it.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <opencv2/core.hpp>

#include "fdiwn/upscaler.hpp"
#include "model/tensor_allocator.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

TEST(TensorAllocator, ReusesFreedBlocksOfTheSameSize) {
  install_tensor_allocator();
  release_cached_tensor_memory();
  void* first = nullptr;
  {
    auto t = torch::empty({4, 1024, 1024});  // 16 MiB
    first = t.data_ptr();
    EXPECT_GE(live_tensor_bytes(), std::size_t{16} << 20);
  }
  EXPECT_GE(cached_tensor_bytes(), std::size_t{16} << 20);
  auto again = torch::empty({4, 1024, 1024});
  EXPECT_EQ(again.data_ptr(), first);
  // Small tensors go to malloc and come back aligned for vector code.
  auto small = torch::empty({3, 5});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small.data_ptr()) % 64, 0u);
}

TEST(TensorAllocator, NothingIsKeptAfterAnImage) {
  UpscalerOptions options;
  options.scale = 2;
  options.weights_path = weights_path(2);
  const Upscaler up(options);
  cv::Mat img(300, 200, CV_8UC3);
  cv::randu(img, 0, 255);
  up.upscale(img);
  EXPECT_EQ(cached_tensor_bytes(), 0u);
  EXPECT_EQ(live_tensor_bytes(), 0u);
}

}  // namespace
}  // namespace fdiwn::test
