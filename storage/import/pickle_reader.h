#pragma once
// A minimal pickle reader for the objects torch.save writes for SGLang's expert distribution
// dumps: dicts, lists, tuples, ints, floats, strings, bools, None, and tensors
// (torch._utils._rebuild_tensor_v2 over a persistent storage id), plus collections.OrderedDict.
// It runs no code: any other global is refused with a one-line error.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moescope::storage::import {

struct PyObject;
using PyRef = std::shared_ptr<const PyObject>;

// A tensor as torch.save describes it: a view of a storage kept in the archive's data/ folder.
struct PyTensor {
  std::string storage_key;  // the archive entry data/<key>
  std::string dtype;        // the storage class: "IntStorage", "LongStorage", ...
  int64_t offset = 0;       // in elements
  std::vector<int64_t> shape, stride;
};

struct PyObject {
  enum class Kind { kNone, kBool, kInt, kFloat, kStr, kBytes, kList, kTuple, kDict, kGlobal,
                    kStorage, kTensor };
  Kind kind = Kind::kNone;
  int64_t i = 0;
  double f = 0;
  std::string s;  // str, bytes, a global's "module.name", a storage's key
  std::vector<PyRef> items;                      // list, tuple
  std::vector<std::pair<PyRef, PyRef>> entries;  // dict
  PyTensor tensor;                               // tensor; storage: dtype in tensor.dtype

  // The value of a dict entry with a str key, or null.
  const PyObject* get(std::string_view key) const;
  const char* kind_name() const;
};

// Unpickles `bytes` (protocol 2 to 4 opcodes). Throws moescope::Error naming `what` for a
// truncated or malformed pickle or an object outside the set above.
PyRef unpickle(std::span<const uint8_t> bytes, std::string_view what);

}  // namespace moescope::storage::import
