// The instruction sets of the engine's hand-written kernels that this CPU
// runs, for tests that check each against a reference.
#pragma once

#include <vector>

#include "engine/simd.hpp"

namespace fdiwn::test {

inline std::vector<engine::Simd> runnable_simd() {
  std::vector<engine::Simd> levels;
  for (const engine::Simd s : {engine::Simd::Avx2, engine::Simd::Avx512}) {
    if (engine::simd_runs(s)) levels.push_back(s);
  }
  return levels;
}

inline const char* simd_name(engine::Simd s) {
  return s == engine::Simd::Avx512 ? "AVX-512" : s == engine::Simd::Avx2 ? "AVX2" : "portable";
}

}  // namespace fdiwn::test
