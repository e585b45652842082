// The fdiwn layout of a weights file: a zip archive (zip_archive.hpp) whose
// pickle (pickle_reader.hpp) is a dict of format, version, scale and tensors.
#include "formats/weights_format.hpp"

#include <map>
#include <string>

#include "fdiwn/errors.hpp"
#include "formats/bytes.hpp"
#include "formats/pickle_reader.hpp"
#include "formats/zip_archive.hpp"

namespace fdiwn {

namespace {

using Node = PickleNode;

[[noreturn]] void fail_weights(const std::string& path, const std::string& reason) {
  throw WeightsError(path, reason);
}

const Node* lookup(const Node* dict, const std::string& key) {
  for (std::size_t k = 0; k + 1 < dict->items.size(); k += 2) {
    const Node* name = dict->items[k];
    if (name->kind == Node::String && name->s == key) return dict->items[k + 1];
  }
  return nullptr;
}

constexpr int64_t kMaxDims = 8;
constexpr int64_t kMaxElements = int64_t{1} << 28;

RawTensor tensor_of(const std::string& name, const Node* t,
                    const std::map<std::string, ZipEntry>& zip, const std::string& prefix,
                    const ByteView& file, const std::string& path) {
  const auto fail = [&](const std::string& why) {
    fail_weights(path, "key '" + name + "' " + why);
  };
  if (t->kind != Node::Tensor) fail("is not a tensor");
  const Node* s = t->storage;
  if (s->s2 != "FloatStorage") fail("is not a dense float32 tensor (" + s->s2 + ")");
  auto entry = zip.find(prefix + "data/" + s->s);
  if (entry == zip.end()) fail("has no data record in the archive");
  if (s->i > kMaxElements || entry->second.size != static_cast<std::size_t>(s->i) * 4) {
    fail("has a storage that does not match its data record");
  }
  const auto dims = static_cast<int64_t>(t->sizes.size());
  if (dims > kMaxDims || t->strides.size() != t->sizes.size()) fail("has a bad shape");
  RawTensor r;
  r.name = name;
  r.numel = 1;
  for (int64_t d = dims - 1; d >= 0; --d) {
    const int64_t n = t->sizes[static_cast<std::size_t>(d)];
    if (n < 0 || n > kMaxElements) fail("has a bad shape");
    // Only contiguous (row-major) tensors, as the converter writes them.
    if (n > 1 && t->strides[static_cast<std::size_t>(d)] != r.numel) fail("is not contiguous");
    r.numel *= n;
    if (r.numel > kMaxElements) fail("is too large");
  }
  r.shape = t->sizes;
  if (t->i < 0 || t->i > s->i || r.numel > s->i - t->i) fail("does not fit its storage");
  r.data = file.data() + entry->second.offset + t->i * 4;
  return r;
}

}  // namespace

RawWeights parse_weights(const unsigned char* data, std::size_t size, const std::string& path) {
  const ByteView file(data, size);
  const auto fail = [&](const std::string& reason) { fail_weights(path, reason); };
  const auto zip = read_zip(file, path);
  std::string prefix;
  const ZipEntry* pickle = nullptr;
  for (const auto& [name, entry] : zip) {
    const std::string suffix = "data.pkl";
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      if (pickle) fail("not an fdiwn weights file (several pickles)");
      pickle = &entry;
      prefix = name.substr(0, name.size() - suffix.size());
    }
  }
  if (!pickle) fail("not an fdiwn weights file (no data.pkl)");

  PickleReader reader(file.data() + pickle->offset, pickle->size, path);
  const Node* root = reader.run();
  if (root->kind != Node::Dict) fail("not an fdiwn weights file: not a dict");
  const auto need = [&](const char* key, Node::Kind kind, const char* what) {
    const Node* n = lookup(root, key);
    if (!n) fail(std::string("not an fdiwn weights file: no '") + key + "' entry");
    if (n->kind != kind) fail(std::string("'") + key + "' is not " + what);
    return n;
  };
  const Node* format = need("format", Node::String, "a string");
  if (format->s != "fdiwn-weights") {
    fail("not an fdiwn weights file: 'format' is not \"fdiwn-weights\"");
  }
  if (need("version", Node::Int, "an integer")->i != 1) {
    fail("unsupported weights file version (this fdiwn reads version 1)");
  }
  RawWeights w;
  w.scale = need("scale", Node::Int, "an integer")->i;
  if (const Node* s = lookup(root, "source"); s && s->kind == Node::String) w.source = s->s;
  if (const Node* p = lookup(root, "source_parameters"); p && p->kind == Node::Int) {
    w.source_parameters = p->i;
  }
  const Node* tensors = need("tensors", Node::Dict, "a dict");
  for (std::size_t k = 0; k + 1 < tensors->items.size(); k += 2) {
    const Node* key = tensors->items[k];
    if (key->kind != Node::String) fail("'tensors' has a key that is not a string");
    w.tensors.push_back(tensor_of(key->s, tensors->items[k + 1], zip, prefix, file, path));
  }
  return w;
}

}  // namespace fdiwn
