#include "formats/pickle_reader.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <unordered_map>

#include "fdiwn/errors.hpp"

namespace fdiwn {

using Node = PickleNode;

class PickleReader::Machine {
 public:
  Machine(const unsigned char* data, std::size_t size, const std::string& path)
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

PickleReader::PickleReader(const unsigned char* data, std::size_t size, const std::string& path)
    : machine_(std::make_unique<Machine>(data, size, path)) {}

PickleReader::~PickleReader() = default;

const PickleNode* PickleReader::run() {
  return machine_->run();
}

}  // namespace fdiwn
