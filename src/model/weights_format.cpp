#include "weights_format.hpp"

#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <unordered_map>

#include "../io/crc32.hpp"
#include "fdiwn/errors.hpp"

namespace fdiwn {

namespace {

// --- Bounds-checked reading ---------------------------------------------------

class Bytes {
 public:
  Bytes(const unsigned char* data, std::size_t size, const std::string& path)
      : data_(data), size_(size), path_(path) {}

  [[noreturn]] void fail(const std::string& reason) const { throw WeightsError(path_, reason); }

  // True if [offset, offset + length) lies inside the buffer (no overflow).
  bool has(std::size_t offset, std::size_t length) const {
    return offset <= size_ && length <= size_ - offset;
  }
  uint32_t u16(std::size_t at) const {
    need(at, 2);
    return static_cast<uint32_t>(data_[at]) | (static_cast<uint32_t>(data_[at + 1]) << 8);
  }
  uint32_t u32(std::size_t at) const {
    need(at, 4);
    return static_cast<uint32_t>(data_[at]) | (static_cast<uint32_t>(data_[at + 1]) << 8) |
           (static_cast<uint32_t>(data_[at + 2]) << 16) |
           (static_cast<uint32_t>(data_[at + 3]) << 24);
  }
  const unsigned char* at(std::size_t offset) const { return data_ + offset; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void need(std::size_t at, std::size_t n) const {
    if (!has(at, n)) fail("truncated or corrupt zip archive");
  }
  const unsigned char* data_;
  std::size_t size_;
  const std::string& path_;
};

// --- Zip (stored entries only, as PyTorch writes them) --------------------------

struct Entry {
  std::size_t offset = 0;  // of the data
  std::size_t size = 0;
};

constexpr uint32_t kEndOfDirectory = 0x06054b50, kDirectoryEntry = 0x02014b50,
                   kLocalHeader = 0x04034b50;
constexpr std::size_t kMaxEntries = 100000;

std::map<std::string, Entry> read_zip(const Bytes& b) {
  if (b.size() < 4 || b.u32(0) != kLocalHeader) {
    b.fail("not an fdiwn weights file (no zip archive header)");
  }
  // The end-of-directory record: 22 bytes plus a comment of up to 64 KiB,
  // which must end exactly at the end of the file.
  if (b.size() < 22) b.fail("truncated or corrupt zip archive (too short)");
  const std::size_t last = b.size() - 22;
  const std::size_t lowest = last > 65535 ? last - 65535 : 0;
  std::size_t eocd = std::numeric_limits<std::size_t>::max();
  for (std::size_t p = last + 1; p-- > lowest;) {
    if (b.u32(p) == kEndOfDirectory && p + 22 + b.u16(p + 20) == b.size()) {
      eocd = p;
      break;
    }
  }
  if (eocd == std::numeric_limits<std::size_t>::max()) {
    b.fail("truncated or corrupt zip archive (no end of central directory)");
  }
  const uint32_t entries = b.u16(eocd + 10);
  const uint32_t dir_size = b.u32(eocd + 12), dir_offset = b.u32(eocd + 16);
  if (b.u16(eocd + 4) != 0 || b.u16(eocd + 6) != 0 || entries != b.u16(eocd + 8)) {
    b.fail("multi-part zip archives are not supported");
  }
  if (dir_offset == 0xFFFFFFFFu || entries == 0xFFFFu) b.fail("zip64 archives are not supported");
  if (!b.has(dir_offset, dir_size) || entries > kMaxEntries) {
    b.fail("truncated or corrupt zip archive (central directory out of range)");
  }
  std::map<std::string, Entry> out;
  std::size_t p = dir_offset;
  for (uint32_t i = 0; i < entries; ++i) {
    if (!b.has(p, 46) || b.u32(p) != kDirectoryEntry) {
      b.fail("truncated or corrupt zip archive (bad central directory entry)");
    }
    const uint32_t flags = b.u16(p + 8), method = b.u16(p + 10);
    const uint32_t crc = b.u32(p + 16), packed = b.u32(p + 20), size = b.u32(p + 24);
    const std::size_t name_len = b.u16(p + 28), extra = b.u16(p + 30), comment = b.u16(p + 32);
    const uint32_t local = b.u32(p + 42);
    if (!b.has(p + 46, name_len)) b.fail("truncated or corrupt zip archive (entry name)");
    std::string name(reinterpret_cast<const char*>(b.at(p + 46)), name_len);
    if ((flags & 1) != 0) b.fail("encrypted zip entries are not supported");
    if (method != 0 || packed != size) {
      b.fail("zip entry '" + name + "' is compressed; fdiwn weights files store entries as is");
    }
    if (!b.has(local, 30) || b.u32(local) != kLocalHeader) {
      b.fail("truncated or corrupt zip archive (bad local header for '" + name + "')");
    }
    const std::size_t data = local + 30 + b.u16(local + 26) + b.u16(local + 28);
    if (!b.has(data, size)) {
      b.fail("truncated or corrupt zip archive (entry '" + name + "' runs past the end)");
    }
    // Every entry's CRC: a damaged tensor must not load as other numbers.
    if (detail::crc32(b.at(data), size) != crc) {
      b.fail("corrupt zip archive: the CRC of entry '" + name +
             "' does not match its data (the file was damaged)");
    }
    if (!out.emplace(std::move(name), Entry{data, size}).second) {
      b.fail("corrupt zip archive (an entry name appears twice)");
    }
    p += 46 + name_len + extra + comment;
  }
  return out;
}

// --- The pickle subset ------------------------------------------------------------

// Every object lives in the arena until parsing ends, so nothing leaks even if
// a hostile file makes a container hold itself.
struct Node {
  enum Kind { None, Bool, Int, Float, String, Tuple, Dict, Global, Storage, Tensor } kind = None;
  int64_t i = 0;
  double f = 0;
  std::string s, s2;         // String; Global module/name; Storage key/type
  std::vector<Node*> items;  // Tuple; Dict (key, value, key, value, ...)
  Node* storage = nullptr;   // Tensor
  std::vector<int64_t> sizes, strides;
};

class Unpickler {
 public:
  Unpickler(const unsigned char* data, std::size_t size, const std::string& path)
      : data_(data), size_(size), path_(path) {}

  Node* run() {
    while (pos_ < size_) {
      const std::size_t at = pos_;
      const unsigned char op = data_[pos_++];
      switch (op) {
        case 0x80:  // PROTO
          if (byte() > 5) fail(at, "unsupported pickle protocol");
          break;
        case 0x95:  // FRAME (protocol 4): a length hint only
          take(8);
          break;
        case '}':
          push(node(Node::Dict));
          break;
        case ')':
          push(node(Node::Tuple));
          break;
        case '(':
          marks_.push_back(stack_.size());
          break;
        case 't':
          push(tuple(pop_mark(at), at));
          break;
        case 0x85:
        case 0x86:
        case 0x87:
          push(tuple(stack_.size() - std::min<std::size_t>(stack_.size(), op - 0x84u), at,
                     op - 0x84u));
          break;
        case 'X':
          push(string(le(4)));
          break;
        case 0x8c:  // SHORT_BINUNICODE
          push(string(byte()));
          break;
        case 'J':
          push(integer(static_cast<int32_t>(le(4))));
          break;
        case 'K':
          push(integer(byte()));
          break;
        case 'M':
          push(integer(le(2)));
          break;
        case 0x8a: {  // LONG1: little-endian two's complement, at most 8 bytes here
          const std::size_t n = byte();
          if (n > 8) fail(at, "integer too large");
          const unsigned char* p = take(n);
          uint64_t v = 0;
          for (std::size_t k = 0; k < n; ++k) v |= static_cast<uint64_t>(p[k]) << (8 * k);
          if (n > 0 && n < 8 && (p[n - 1] & 0x80)) v |= ~uint64_t{0} << (8 * n);
          push(integer(static_cast<int64_t>(v)));
          break;
        }
        case 'N':
          push(node(Node::None));
          break;
        case 0x88:
        case 0x89: {
          Node* n = node(Node::Bool);
          n->i = op == 0x88;
          push(n);
          break;
        }
        case 'G': {  // BINFLOAT: big-endian double
          const unsigned char* p = take(8);
          uint64_t bits = 0;
          for (int k = 0; k < 8; ++k) bits = (bits << 8) | p[k];
          Node* n = node(Node::Float);
          std::memcpy(&n->f, &bits, sizeof bits);
          push(n);
          break;
        }
        case 'q':
          memo_[byte()] = top(at);
          break;
        case 'r':
          memo_[le(4)] = top(at);
          break;
        case 0x94:  // MEMOIZE
          memo_[static_cast<uint32_t>(memo_.size())] = top(at);
          break;
        case 'h':
          push(get(byte(), at));
          break;
        case 'j':
          push(get(le(4), at));
          break;
        case 'c': {
          Node* n = node(Node::Global);
          n->s = line(at);
          n->s2 = line(at);
          push(n);
          break;
        }
        case 'Q':
          push(storage(pop(at), at));
          break;
        case 'R': {
          Node* args = pop(at);
          Node* callable = pop(at);
          push(reduce(callable, args, at));
          break;
        }
        case 's': {
          Node* value = pop(at);
          Node* key = pop(at);
          add_items(top(at), {key, value}, at);
          break;
        }
        case 'u': {
          const std::size_t mark = pop_mark(at);
          std::vector<Node*> kv(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
          stack_.resize(mark);
          if (kv.size() % 2 != 0) fail(at, "odd number of dict items");
          add_items(top(at), kv, at);
          break;
        }
        case '.':
          return top(at);
        default:
          fail(at, "unsupported pickle opcode 0x" + hex(op));
      }
    }
    fail(size_, "the pickle ends without STOP (truncated?)");
  }

 private:
  [[noreturn]] void fail(std::size_t at, const std::string& what) const {
    throw WeightsError(path_,
                       "malformed weights pickle: " + what + " at offset " + std::to_string(at));
  }
  static std::string hex(unsigned v) {
    const char* digits = "0123456789abcdef";
    return {digits[(v >> 4) & 15], digits[v & 15]};
  }
  const unsigned char* take(std::size_t n) {
    if (n > size_ - pos_) fail(pos_, "unexpected end");
    const unsigned char* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  uint32_t byte() { return *take(1); }
  uint32_t le(std::size_t n) {
    const unsigned char* p = take(n);
    uint32_t v = 0;
    for (std::size_t k = 0; k < n; ++k) v |= static_cast<uint32_t>(p[k]) << (8 * k);
    return v;
  }
  std::string line(std::size_t at) {
    std::string s;
    while (true) {
      const char c = static_cast<char>(*take(1));
      if (c == '\n') return s;
      if (s.size() >= 256) fail(at, "GLOBAL name too long");
      s += c;
    }
  }
  Node* node(Node::Kind kind) {
    arena_.push_back(std::make_unique<Node>());
    arena_.back()->kind = kind;
    return arena_.back().get();
  }
  Node* integer(int64_t v) {
    Node* n = node(Node::Int);
    n->i = v;
    return n;
  }
  Node* string(std::size_t length) {
    const unsigned char* p = take(length);
    Node* n = node(Node::String);
    n->s.assign(reinterpret_cast<const char*>(p), length);
    return n;
  }
  void push(Node* n) { stack_.push_back(n); }
  Node* top(std::size_t at) {
    if (stack_.empty() || (!marks_.empty() && marks_.back() == stack_.size())) {
      fail(at, "stack underflow");
    }
    return stack_.back();
  }
  Node* pop(std::size_t at) {
    Node* n = top(at);
    stack_.pop_back();
    return n;
  }
  std::size_t pop_mark(std::size_t at) {
    if (marks_.empty() || marks_.back() > stack_.size()) fail(at, "MARK missing");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    return m;
  }
  Node* tuple(std::size_t from, std::size_t at, std::size_t expected = SIZE_MAX) {
    if (expected != SIZE_MAX && stack_.size() - from != expected) fail(at, "stack underflow");
    if (!marks_.empty() && marks_.back() > from) fail(at, "tuple across a MARK");
    Node* t = node(Node::Tuple);
    t->items.assign(stack_.begin() + static_cast<std::ptrdiff_t>(from), stack_.end());
    stack_.resize(from);
    return t;
  }
  Node* get(uint32_t index, std::size_t at) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail(at, "memo entry " + std::to_string(index) + " missing");
    return it->second;
  }
  void add_items(Node* dict, const std::vector<Node*>& kv, std::size_t at) {
    if (dict->kind != Node::Dict) fail(at, "SETITEM on something that is not a dict");
    dict->items.insert(dict->items.end(), kv.begin(), kv.end());
  }
  // ('storage', torch.<Type>Storage, key, location, numel)
  Node* storage(Node* pid, std::size_t at) {
    if (pid->kind != Node::Tuple || pid->items.size() != 5 || pid->items[0]->kind != Node::String ||
        pid->items[0]->s != "storage" || pid->items[1]->kind != Node::Global ||
        pid->items[2]->kind != Node::String || pid->items[4]->kind != Node::Int ||
        pid->items[4]->i < 0) {
      fail(at, "unsupported persistent id");
    }
    Node* n = node(Node::Storage);
    n->s = pid->items[2]->s;
    n->s2 = pid->items[1]->s2;  // e.g. FloatStorage
    n->i = pid->items[4]->i;
    return n;
  }
  Node* reduce(Node* callable, Node* args, std::size_t at) {
    if (callable->kind != Node::Global || args->kind != Node::Tuple) fail(at, "bad REDUCE");
    const std::string name = callable->s + "." + callable->s2;
    if (name == "collections.OrderedDict" && args->items.empty()) return node(Node::Dict);
    // LibTorch's C++ pickler tags containers with their type: (object, "Dict[str, Tensor]").
    if (name == "torch.jit._pickle.restore_type_tag" && args->items.size() == 2) {
      return args->items[0];
    }
    if (name != "torch._utils._rebuild_tensor_v2") fail(at, "unsupported object " + name);
    const auto& a = args->items;
    if (a.size() < 4 || a[0]->kind != Node::Storage || a[1]->kind != Node::Int ||
        a[2]->kind != Node::Tuple || a[3]->kind != Node::Tuple) {
      fail(at, "bad tensor arguments");
    }
    Node* t = node(Node::Tensor);
    t->storage = a[0];
    t->i = a[1]->i;
    for (const Node* d : a[2]->items) {
      if (d->kind != Node::Int) fail(at, "bad tensor size");
      t->sizes.push_back(d->i);
    }
    for (const Node* d : a[3]->items) {
      if (d->kind != Node::Int) fail(at, "bad tensor stride");
      t->strides.push_back(d->i);
    }
    return t;
  }

  const unsigned char* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  const std::string& path_;
  std::vector<std::unique_ptr<Node>> arena_;
  std::vector<Node*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<uint32_t, Node*> memo_;
};

// --- The fdiwn layout on top ---------------------------------------------------

const Node* lookup(const Node* dict, const std::string& key) {
  for (std::size_t k = 0; k + 1 < dict->items.size(); k += 2) {
    const Node* name = dict->items[k];
    if (name->kind == Node::String && name->s == key) return dict->items[k + 1];
  }
  return nullptr;
}

constexpr int64_t kMaxDims = 8;
constexpr int64_t kMaxElements = int64_t{1} << 28;

RawTensor tensor_of(const std::string& name, const Node* t, const std::map<std::string, Entry>& zip,
                    const std::string& prefix, const Bytes& b) {
  const auto fail = [&](const std::string& why) { b.fail("key '" + name + "' " + why); };
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
  r.data = b.at(entry->second.offset) + t->i * 4;
  return r;
}

}  // namespace

RawWeights parse_weights(const unsigned char* data, std::size_t size, const std::string& path) {
  const Bytes b(data, size, path);
  const auto zip = read_zip(b);
  std::string prefix;
  const Entry* pickle = nullptr;
  for (const auto& [name, entry] : zip) {
    const std::string suffix = "data.pkl";
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      if (pickle) b.fail("not an fdiwn weights file (several pickles)");
      pickle = &entry;
      prefix = name.substr(0, name.size() - suffix.size());
    }
  }
  if (!pickle) b.fail("not an fdiwn weights file (no data.pkl)");

  Unpickler unpickler(b.at(pickle->offset), pickle->size, path);
  const Node* root = unpickler.run();
  if (root->kind != Node::Dict) b.fail("not an fdiwn weights file: not a dict");
  const auto need = [&](const char* key, Node::Kind kind, const char* what) {
    const Node* n = lookup(root, key);
    if (!n) b.fail(std::string("not an fdiwn weights file: no '") + key + "' entry");
    if (n->kind != kind) b.fail(std::string("'") + key + "' is not " + what);
    return n;
  };
  const Node* format = need("format", Node::String, "a string");
  if (format->s != "fdiwn-weights") {
    b.fail("not an fdiwn weights file: 'format' is not \"fdiwn-weights\"");
  }
  if (need("version", Node::Int, "an integer")->i != 1) {
    b.fail("unsupported weights file version (this fdiwn reads version 1)");
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
    if (key->kind != Node::String) b.fail("'tensors' has a key that is not a string");
    w.tensors.push_back(tensor_of(key->s, tensors->items[k + 1], zip, prefix, b));
  }
  return w;
}

}  // namespace fdiwn
