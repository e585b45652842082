// The optimised path's allocator for LibTorch CPU tensors.
//
// A whole-image pass allocates and frees thousands of feature maps of a few
// exact sizes. Above glibc's mmap threshold (32 MB: 24 channels x 0.33 MP)
// each one is a fresh mapping, page-faulted on every write: the plain path's
// cost per pixel doubles from 0.25 MP up. Here large blocks come from
// anonymous mappings advised to use 2 MB pages, and freed blocks are kept and
// handed out again to the next request of the same size; the cache is
// released between images.
#pragma once

#include <cstddef>

namespace fdiwn {

/// Installs the allocator for every LibTorch CPU tensor of the process
/// (idempotent; small requests still go to the default allocator).
void install_tensor_allocator();

/// Unmaps the cached free blocks (the live ones are untouched).
void release_cached_tensor_memory();

/// Bytes held in cached free blocks, and in blocks in use.
std::size_t cached_tensor_bytes();
std::size_t live_tensor_bytes();

}  // namespace fdiwn
