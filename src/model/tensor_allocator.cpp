#include "tensor_allocator.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

namespace fdiwn {

namespace {

// Requests from this size up are served from the cache; smaller ones (the
// CoffConv vectors, weights, small images) by plain aligned malloc.
constexpr std::size_t kLargeBytes = std::size_t{1} << 20;
constexpr std::size_t kHugePage = std::size_t{2} << 20;
// LibTorch's own alignment for CPU tensors (vectorised kernels rely on it).
constexpr std::size_t kAlignment = 64;

std::size_t round_up(std::size_t n) {
  return (n + kHugePage - 1) / kHugePage * kHugePage;
}

class CachingAllocator final : public c10::Allocator {
 public:
  CachingAllocator() = default;

  c10::DataPtr allocate(std::size_t n) const override {
    if (n == 0)
      return {nullptr, nullptr, &CachingAllocator::release, c10::Device(c10::DeviceType::CPU)};
    if (n < kLargeBytes) {
      void* p = nullptr;
      if (::posix_memalign(&p, kAlignment, n) != 0) throw std::bad_alloc();
      return {p, p, &CachingAllocator::release, c10::Device(c10::DeviceType::CPU)};
    }
    const std::size_t size = round_up(n);
    void* p = take(size);
    if (p == nullptr) {
      p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      ::madvise(p, size, MADV_HUGEPAGE);  // a hint: fine if THP is off
      std::lock_guard<std::mutex> lock(mutex_);
      live_.emplace(p, size);
      live_bytes_ += size;
    }
    return {p, p, &CachingAllocator::release, c10::Device(c10::DeviceType::CPU)};
  }

  // One deleter for every block, so LibTorch's raw_allocate/raw_deallocate
  // work too.
  c10::DeleterFnPtr raw_deleter() const override { return &CachingAllocator::release; }

  void trim() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, p] : free_) ::munmap(p, size);
    free_.clear();
    cached_bytes_ = 0;
  }

  std::size_t cached() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_bytes_;
  }
  std::size_t live() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return live_bytes_;
  }

  static CachingAllocator* instance;

 private:
  // A cached block of exactly `size` bytes, moved back to the live set.
  void* take(std::size_t size) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(size);
    if (it == free_.end()) return nullptr;
    void* p = it->second;
    free_.erase(it);
    cached_bytes_ -= size;
    live_.emplace(p, size);
    live_bytes_ += size;
    return p;
  }

  static void release(void* p) {
    if (p != nullptr && !instance->give_back(p)) std::free(p);
  }

  // Caches a large block; false for a small one (malloc'ed).
  bool give_back(void* p) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(p);
    if (it == live_.end()) return false;
    free_.emplace(it->second, p);
    cached_bytes_ += it->second;
    live_bytes_ -= it->second;
    live_.erase(it);
    return true;
  }

  mutable std::mutex mutex_;
  mutable std::multimap<std::size_t, void*> free_;
  mutable std::map<void*, std::size_t> live_;
  mutable std::size_t cached_bytes_ = 0, live_bytes_ = 0;
};

CachingAllocator* CachingAllocator::instance = nullptr;
std::once_flag g_install;

}  // namespace

void install_tensor_allocator() {
  std::call_once(g_install, [] {
    // Never destroyed: tensors may outlive any static destructor order.
    CachingAllocator::instance = new CachingAllocator();
    c10::SetCPUAllocator(CachingAllocator::instance, /*priority=*/1);
  });
}

void release_cached_tensor_memory() {
  if (CachingAllocator::instance) CachingAllocator::instance->trim();
}

std::size_t cached_tensor_bytes() {
  return CachingAllocator::instance ? CachingAllocator::instance->cached() : 0;
}

std::size_t live_tensor_bytes() {
  return CachingAllocator::instance ? CachingAllocator::instance->live() : 0;
}

}  // namespace fdiwn
