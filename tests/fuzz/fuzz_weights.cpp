// libFuzzer target: arbitrary bytes as a weights file. The reader must
// answer with a WeightsError or a result, never crash, hang or allocate
// more than the input justifies.
#include <cstddef>
#include <cstdint>

#include "fdiwn/errors.hpp"
#include "formats/weights_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const fdiwn::RawWeights w = fdiwn::parse_weights(data, size, "fuzz-input");
    // Touch every tensor's data: it must lie inside the input.
    volatile unsigned char sink = 0;
    for (const auto& t : w.tensors) {
      if (t.numel > 0) sink ^= t.data[0] ^ t.data[t.numel * 4 - 1];
    }
    (void)sink;
  } catch (const fdiwn::WeightsError&) {
  }
  return 0;
}
