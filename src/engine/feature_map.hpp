// Feature maps the engine keeps between passes (those that must outlive a
// global statistic): dense channels-last images of one frame, handed out by
// a pool that reuses blocks of the same size within and across images of the
// same size (large ones are mappings advised to use 2 MB pages: fresh pages
// cost a kernel zeroing pass on every first write; small ones are kept
// between images, for batches of small images).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>

#include "engine/bands.hpp"

namespace fdiwn::engine {

class MapPool {
 public:
  MapPool() = default;
  ~MapPool();
  MapPool(const MapPool&) = delete;
  MapPool& operator=(const MapPool&) = delete;

  float* take(std::size_t floats);
  void give(float* p, std::size_t floats);
  /// Unmaps blocks not in use, largest first, until at most `keep_bytes`
  /// of them are left.
  void release(std::size_t keep_bytes);
  /// Unmaps blocks not in use that no map of `frame` (3, 12 or 24
  /// channels) can reuse: called before an image, so that the blocks kept
  /// from the previous one never add to this one's peak.
  void release_unusable(const Frame& frame);

 private:
  mutable std::mutex mutex_;
  std::multimap<std::size_t, void*> free_;  // by size in bytes
};

/// One feature map: `channels` values per pixel, rows of `width` pixels.
class Map {
 public:
  Map() = default;
  Map(MapPool& pool, const Frame& frame, int channels);
  ~Map() { reset(); }
  Map(Map&& o) noexcept { *this = std::move(o); }
  Map& operator=(Map&& o) noexcept;
  Map(const Map&) = delete;
  Map& operator=(const Map&) = delete;

  float* row(int64_t r) const { return data_ + r * width_ * channels_; }
  int channels() const { return channels_; }
  /// Gives the memory back to the pool.
  void reset();

 private:
  MapPool* pool_ = nullptr;
  float* data_ = nullptr;
  std::size_t floats_ = 0;
  int64_t width_ = 0;
  int channels_ = 0;
};

}  // namespace fdiwn::engine
