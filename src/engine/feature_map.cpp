#include "feature_map.hpp"

#include <sys/mman.h>

#include <new>
#include <utility>

namespace fdiwn::engine {

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

std::size_t block_bytes(std::size_t floats) {
  const std::size_t bytes = std::max<std::size_t>(floats * sizeof(float), 1);
  return (bytes + kHugePage - 1) / kHugePage * kHugePage;
}

}  // namespace

MapPool::~MapPool() {
  release();
}

float* MapPool::take(std::size_t floats) {
  const std::size_t size = block_bytes(floats);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(size);
    if (it != free_.end()) {
      void* p = it->second;
      free_.erase(it);
      return static_cast<float*>(p);
    }
  }
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  ::madvise(p, size, MADV_HUGEPAGE);  // a hint: fine if THP is off
  return static_cast<float*>(p);
}

void MapPool::give(float* p, std::size_t floats) {
  std::lock_guard<std::mutex> lock(mutex_);
  free_.emplace(block_bytes(floats), p);
}

void MapPool::release() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [size, p] : free_) ::munmap(p, size);
  free_.clear();
}

std::size_t MapPool::cached_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t total = 0;
  for (const auto& kv : free_) total += kv.first;
  return total;
}

Map::Map(MapPool& pool, const Frame& frame, int channels)
    : pool_(&pool),
      floats_(static_cast<std::size_t>(frame.pixels() * channels)),
      width_(frame.width),
      channels_(channels) {
  data_ = pool.take(floats_);
}

Map& Map::operator=(Map&& o) noexcept {
  if (this != &o) {
    reset();
    pool_ = std::exchange(o.pool_, nullptr);
    data_ = std::exchange(o.data_, nullptr);
    floats_ = std::exchange(o.floats_, 0);
    width_ = o.width_;
    channels_ = o.channels_;
  }
  return *this;
}

void Map::reset() {
  if (data_ != nullptr) pool_->give(data_, floats_);
  data_ = nullptr;
  pool_ = nullptr;
}

}  // namespace fdiwn::engine
