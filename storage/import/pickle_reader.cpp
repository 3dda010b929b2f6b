#include "storage/import/pickle_reader.h"

#include <cstring>
#include <string>
#include <unordered_map>

#include "engine/common/error.h"

namespace moescope::storage::import {
namespace {

using Kind = PyObject::Kind;

PyRef make(Kind k) {
  auto o = std::make_shared<PyObject>();
  o->kind = k;
  return o;
}
PyRef make_int(int64_t v) {
  auto o = std::make_shared<PyObject>();
  o->kind = Kind::kInt;
  o->i = v;
  return o;
}
PyRef make_str(Kind k, std::string s) {
  auto o = std::make_shared<PyObject>();
  o->kind = k;
  o->s = std::move(s);
  return o;
}

std::vector<int64_t> int_tuple(const PyObject& t, std::string_view what) {
  if (t.kind != Kind::kTuple && t.kind != Kind::kList) fail("{}: a tensor's size is not a tuple", what);
  std::vector<int64_t> out;
  for (const PyRef& v : t.items) {
    if (v->kind != Kind::kInt || v->i < 0) fail("{}: a tensor's size is not non-negative ints", what);
    out.push_back(v->i);
  }
  return out;
}

class Machine {
 public:
  Machine(std::span<const uint8_t> b, std::string_view what) : b_(b), what_(what) {}

  PyRef run() {
    while (true) {
      const uint8_t op = byte();
      switch (op) {
        case 0x80: byte(); break;                  // PROTO
        case 0x95: take(8); break;                 // FRAME
        case '}': push(make(Kind::kDict)); break;  // EMPTY_DICT
        case ']': push(make(Kind::kList)); break;  // EMPTY_LIST
        case ')': push(make(Kind::kTuple)); break; // EMPTY_TUPLE
        case '(': marks_.push_back(stack_.size()); break;
        case 't': push(tuple(pop_mark())); break;
        case 0x85: case 0x86: case 0x87: {         // TUPLE1..3
          const size_t n = size_t(op - 0x84);
          need(n);
          std::vector<PyRef> items(stack_.end() - long(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push(tuple(std::move(items)));
          break;
        }
        case 'a': { PyRef v = pop(); append(top(), {v}); break; }
        case 'e': { std::vector<PyRef> v = pop_mark(); append(top(), v); break; }
        case 's': { PyRef v = pop(); PyRef k = pop(); set_items(top(), {k, v}); break; }
        case 'u': { std::vector<PyRef> v = pop_mark(); set_items(top(), v); break; }
        case 'K': push(make_int(byte())); break;
        case 'M': { const auto p = take(2); push(make_int(p[0] | p[1] << 8)); break; }
        case 'J': { int32_t v; std::memcpy(&v, take(4), 4); push(make_int(v)); break; }
        case 0x8a: { const size_t n = byte(); push(make_int(long_bytes(take(n), n))); break; }
        case 0x8b: { const size_t n = u32(); push(make_int(long_bytes(take(n), n))); break; }
        case 'G': {
          const uint8_t* p = take(8);
          uint64_t u = 0;
          for (int i = 0; i < 8; ++i) u = u << 8 | p[i];  // big-endian
          double d;
          std::memcpy(&d, &u, 8);
          auto o = make(Kind::kFloat);
          std::const_pointer_cast<PyObject>(o)->f = d;
          push(o);
          break;
        }
        case 'X': { const size_t n = u32(); push(make_str(Kind::kStr, text(n))); break; }
        case 0x8c: { const size_t n = byte(); push(make_str(Kind::kStr, text(n))); break; }
        case 0x8d: { const size_t n = size_t(u64()); push(make_str(Kind::kStr, text(n))); break; }
        case 'B': { const size_t n = u32(); push(make_str(Kind::kBytes, text(n))); break; }
        case 'C': { const size_t n = byte(); push(make_str(Kind::kBytes, text(n))); break; }
        case 0x88: { auto o = make(Kind::kBool); std::const_pointer_cast<PyObject>(o)->i = 1; push(o); break; }
        case 0x89: push(make(Kind::kBool)); break;
        case 'N': push(make(Kind::kNone)); break;
        case 'c': {  // GLOBAL module\nname\n
          std::string module = line(), name = line();
          push(make_str(Kind::kGlobal, module + "." + name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          PyRef name = pop(), module = pop();
          if (name->kind != Kind::kStr || module->kind != Kind::kStr) bad("STACK_GLOBAL");
          push(make_str(Kind::kGlobal, module->s + "." + name->s));
          break;
        }
        case 'Q': push(persistent(pop())); break;  // BINPERSID
        case 'R': { PyRef args = pop(); PyRef f = pop(); push(reduce(*f, *args)); break; }
        case 'b': pop(); break;  // BUILD: the state of an OrderedDict (hooks): not needed
        case 'q': memo(byte()); break;
        case 'r': memo(u32()); break;
        case 0x94: memo(memo_.size()); break;
        case 'h': push(recall(byte())); break;
        case 'j': push(recall(u32())); break;
        case '.': {
          if (stack_.size() != 1) bad("STOP");
          return stack_.back();
        }
        default:
          fail("{}: pickle opcode 0x{:02x} at byte {} is not one MoEScope reads (is this an "
               "SGLang expert distribution dump?)",
               what_, op, at_ - 1);
      }
    }
  }

 private:
  [[noreturn]] void bad(const char* op) const {
    fail("{} is a damaged pickle ({} at byte {})", what_, op, at_);
  }
  const uint8_t* take(size_t n) {
    if (n > b_.size() - at_) fail("{} is a truncated pickle", what_);
    const uint8_t* p = b_.data() + at_;
    at_ += n;
    return p;
  }
  uint8_t byte() { return *take(1); }
  size_t u32() {
    const uint8_t* p = take(4);
    return size_t(p[0]) | size_t(p[1]) << 8 | size_t(p[2]) << 16 | size_t(p[3]) << 24;
  }
  uint64_t u64() {
    const uint8_t* p = take(8);
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
    return v;
  }
  std::string text(size_t n) {
    const uint8_t* p = take(n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  std::string line() {
    std::string s;
    while (true) {
      const uint8_t c = byte();
      if (c == '\n') return s;
      s.push_back(char(c));
      if (s.size() > 256) bad("GLOBAL");
    }
  }
  int64_t long_bytes(const uint8_t* p, size_t n) {
    if (n == 0) return 0;
    if (n > 8) fail("{}: an integer of {} bytes is too large", what_, n);
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = v << 8 | p[i];
    if (n < 8 && (p[n - 1] & 0x80)) v |= ~uint64_t(0) << (8 * n);  // sign-extend
    return int64_t(v);
  }
  void need(size_t n) const {
    if (stack_.size() < n + (marks_.empty() ? 0 : marks_.back())) bad("stack underflow");
  }
  void push(PyRef v) {
    if (stack_.size() > (size_t(1) << 26)) fail("{}: the pickle is too deep", what_);
    stack_.push_back(std::move(v));
  }
  PyRef pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) bad("pop");
    PyRef v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  PyObject& top() {
    if (stack_.empty()) bad("empty stack");
    return const_cast<PyObject&>(*stack_.back());
  }
  std::vector<PyRef> pop_mark() {
    if (marks_.empty()) bad("no MARK");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PyRef> out(stack_.begin() + long(m), stack_.end());
    stack_.resize(m);
    return out;
  }
  PyRef tuple(std::vector<PyRef> items) {
    auto o = std::make_shared<PyObject>();
    o->kind = Kind::kTuple;
    o->items = std::move(items);
    return o;
  }
  void append(PyObject& list, const std::vector<PyRef>& v) {
    if (list.kind != Kind::kList) bad("APPEND to a non-list");
    list.items.insert(list.items.end(), v.begin(), v.end());
  }
  void set_items(PyObject& dict, const std::vector<PyRef>& kv) {
    if (dict.kind != Kind::kDict || kv.size() % 2) bad("SETITEMS");
    for (size_t i = 0; i < kv.size(); i += 2) dict.entries.emplace_back(kv[i], kv[i + 1]);
  }
  void memo(size_t key) {
    if (stack_.empty()) bad("PUT");
    if (memo_.size() > (size_t(1) << 26)) fail("{}: the pickle is too large", what_);
    memo_[key] = stack_.back();
  }
  PyRef recall(size_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) bad("GET");
    return it->second;
  }
  // ('storage', torch.XStorage, key, location, numel)
  PyRef persistent(PyRef pid) {
    if (pid->kind != Kind::kTuple || pid->items.size() < 3 || pid->items[0]->s != "storage" ||
        pid->items[1]->kind != Kind::kGlobal || pid->items[2]->kind != Kind::kStr) {
      fail("{}: a persistent id that is not a torch storage", what_);
    }
    auto o = std::make_shared<PyObject>();
    o->kind = Kind::kStorage;
    o->s = pid->items[2]->s;
    const std::string& type = pid->items[1]->s;
    o->tensor.dtype = type.substr(type.rfind('.') + 1);
    return o;
  }
  PyRef reduce(const PyObject& f, const PyObject& args) {
    if (f.kind != Kind::kGlobal || args.kind != Kind::kTuple) bad("REDUCE");
    if (f.s == "collections.OrderedDict") return make(Kind::kDict);
    if (f.s == "torch._utils._rebuild_tensor_v2" || f.s == "torch._utils._rebuild_tensor") {
      if (args.items.size() < 4 || args.items[0]->kind != Kind::kStorage ||
          args.items[1]->kind != Kind::kInt)
        fail("{}: a tensor with unexpected arguments", what_);
      auto o = std::make_shared<PyObject>();
      o->kind = Kind::kTensor;
      o->tensor.storage_key = args.items[0]->s;
      o->tensor.dtype = args.items[0]->tensor.dtype;
      o->tensor.offset = args.items[1]->i;
      o->tensor.shape = int_tuple(*args.items[2], what_);
      o->tensor.stride = int_tuple(*args.items[3], what_);
      if (o->tensor.shape.size() != o->tensor.stride.size() || o->tensor.offset < 0)
        fail("{}: a tensor whose size and stride do not match", what_);
      return o;
    }
    fail("{}: the pickle calls {}, which MoEScope does not read (it reads SGLang expert "
         "distribution dumps only)",
         what_, f.s);
  }

  std::span<const uint8_t> b_;
  std::string_view what_;
  size_t at_ = 0;
  std::vector<PyRef> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<size_t, PyRef> memo_;
};

}  // namespace

const PyObject* PyObject::get(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k->kind == Kind::kStr && k->s == key) return v.get();
  }
  return nullptr;
}

const char* PyObject::kind_name() const {
  static const char* kNames[] = {"None", "bool",  "int",    "float",   "str",     "bytes",
                                 "list", "tuple", "dict",   "global",  "storage", "tensor"};
  return kNames[int(kind)];
}

PyRef unpickle(std::span<const uint8_t> bytes, std::string_view what) {
  return Machine(bytes, what).run();
}

}  // namespace moescope::storage::import
