#include "engine/feature_map.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <iterator>
#include <new>
#include <utility>

namespace fdiwn::engine {

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kSmallUnit = std::size_t{64} << 10;

// Large blocks in whole 2 MB pages; small ones (small images) in 64 KB
// units, so that a 400 KB map does not fault in and zero 2 MB.
std::size_t block_bytes(std::size_t floats) {
  const std::size_t bytes = std::max<std::size_t>(floats * sizeof(float), 1);
  const std::size_t unit = bytes >= kHugePage ? kHugePage : kSmallUnit;
  return (bytes + unit - 1) / unit * unit;
}

}  // namespace

MapPool::~MapPool() {
  release(0);
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
  if (size >= kHugePage) ::madvise(p, size, MADV_HUGEPAGE);  // a hint: fine if THP is off
  return static_cast<float*>(p);
}

void MapPool::give(float* p, std::size_t floats) {
  std::lock_guard<std::mutex> lock(mutex_);
  free_.emplace(block_bytes(floats), p);
}

void MapPool::release(std::size_t keep_bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t kept = 0;
  for (const auto& kv : free_) kept += kv.first;
  // Largest first: what is kept is the small blocks of small images.
  while (kept > keep_bytes && !free_.empty()) {
    auto last = std::prev(free_.end());
    ::munmap(last->second, last->first);
    kept -= last->first;
    free_.erase(last);
  }
}

void MapPool::release_unusable(const Frame& frame) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::size_t px = static_cast<std::size_t>(frame.pixels());
  const std::size_t usable[] = {block_bytes(px * 3), block_bytes(px * 12), block_bytes(px * 24)};
  for (auto it = free_.begin(); it != free_.end();) {
    if (std::find(std::begin(usable), std::end(usable), it->first) == std::end(usable)) {
      ::munmap(it->second, it->first);
      it = free_.erase(it);
    } else {
      ++it;
    }
  }
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
