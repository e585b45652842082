// The subset of Python's pickle that PyTorch's serialisation of a dict of
// tensors uses (protocol 2-5 opcodes for dicts, tuples, strings, integers,
// floats, globals and persistent storage ids). Standard library only; never
// recurses on file content.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fdiwn {

// Every object lives in the arena until parsing ends, so nothing leaks even if
// a hostile file makes a container hold itself.
struct PickleNode {
  enum Kind { None, Bool, Int, Float, String, Tuple, Dict, Global, Storage, Tensor } kind = None;
  int64_t i = 0;
  double f = 0;
  std::string s, s2;               // String; Global module/name; Storage key/type
  std::vector<PickleNode*> items;  // Tuple; Dict (key, value, key, value, ...)
  PickleNode* storage = nullptr;   // Tensor
  std::vector<int64_t> sizes, strides;
};

/// Runs a pickle. The nodes it returns live as long as the reader (in an
/// arena: nothing leaks even if a hostile file makes a container hold
/// itself).
class PickleReader {
 public:
  PickleReader(const unsigned char* data, std::size_t size, const std::string& path);
  ~PickleReader();
  PickleReader(const PickleReader&) = delete;
  PickleReader& operator=(const PickleReader&) = delete;

  /// The object the pickle leaves. Throws WeightsError(path, "malformed
  /// weights pickle: ... at offset N") for anything outside the subset.
  const PickleNode* run();

 private:
  class Machine;
  std::unique_ptr<Machine> machine_;
};

}  // namespace fdiwn
