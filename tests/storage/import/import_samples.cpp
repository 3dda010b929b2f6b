#include "tests/storage/import/import_samples.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <numeric>

namespace moescope::storage::import::test {

Routing random_routing(std::mt19937& rng, int tokens, int layers, int k, int experts,
                       const std::vector<int>& dense, int padding) {
  Routing r(static_cast<size_t>(tokens),
            std::vector<std::vector<int32_t>>(static_cast<size_t>(layers)));
  std::vector<int32_t> all(static_cast<size_t>(experts));
  std::iota(all.begin(), all.end(), 0);
  for (auto& tok : r) {
    for (int l = 0; l < layers; ++l) {
      auto& slots = tok[size_t(l)];
      slots.assign(size_t(k), -1);
      if (std::find(dense.begin(), dense.end(), l) != dense.end()) continue;
      std::shuffle(all.begin(), all.end(), rng);
      for (int i = 0; i < k - padding; ++i) slots[size_t(i)] = all[size_t(i)];
    }
  }
  return r;
}

std::vector<int32_t> flatten(const Routing& r) {
  std::vector<int32_t> out;
  for (const auto& t : r)
    for (const auto& l : t) out.insert(out.end(), l.begin(), l.end());
  return out;
}

std::string base64(const std::vector<uint8_t>& b) {
  static const char* c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < b.size(); i += 3) {
    const uint32_t v = uint32_t(b[i]) << 16 | (i + 1 < b.size() ? uint32_t(b[i + 1]) << 8 : 0) |
                       (i + 2 < b.size() ? uint32_t(b[i + 2]) : 0);
    out += c[(v >> 18) & 63];
    out += c[(v >> 12) & 63];
    out += i + 1 < b.size() ? c[(v >> 6) & 63] : '=';
    out += i + 2 < b.size() ? c[v & 63] : '=';
  }
  return out;
}

std::vector<uint8_t> int32_bytes(const std::vector<int32_t>& v) {
  std::vector<uint8_t> out(static_cast<size_t>(v.size() * 4));
  if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

std::vector<uint8_t> npy(const std::vector<int32_t>& values, const std::vector<int64_t>& shape,
                         bool int16) {
  std::string dims;
  for (int64_t d : shape) dims.append(std::to_string(d)).append(", ");
  std::string header = "{'descr': '";
  header.append(int16 ? "<i2" : "<i4").append("', 'fortran_order': False, 'shape': (");
  header.append(dims).append("), }");
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, uint8_t(header.size() & 0xff),
                              uint8_t(header.size() >> 8)};
  out.insert(out.end(), header.begin(), header.end());
  for (int32_t v : values) {
    if (int16) {
      const auto s = int16_t(v);
      out.push_back(uint8_t(s & 0xff));
      out.push_back(uint8_t((uint16_t(s) >> 8) & 0xff));
    } else {
      for (int b = 0; b < 4; ++b) out.push_back(uint8_t((uint32_t(v) >> (8 * b)) & 0xff));
    }
  }
  return out;
}

SampleValue py_int(int64_t v) {
  SampleValue x;
  x.kind = SampleValue::Kind::kInt;
  x.i = v;
  return x;
}
SampleValue py_str(std::string s) {
  SampleValue x;
  x.kind = SampleValue::Kind::kStr;
  x.s = std::move(s);
  return x;
}
SampleValue py_list(const std::vector<int64_t>& v) {
  SampleValue x;
  x.kind = SampleValue::Kind::kList;
  for (int64_t i : v) x.items.push_back(py_int(i));
  return x;
}
SampleValue py_list_of(std::vector<SampleValue> items) {
  SampleValue x;
  x.kind = SampleValue::Kind::kList;
  x.items = std::move(items);
  return x;
}
SampleValue py_tensor(SampleTensor t) {
  SampleValue x;
  x.kind = SampleValue::Kind::kTensor;
  x.tensor = std::move(t);
  return x;
}
SampleValue py_dict(std::vector<std::pair<std::string, SampleValue>> fields) {
  SampleValue x;
  x.kind = SampleValue::Kind::kDict;
  x.fields = std::move(fields);
  return x;
}

namespace {

class PickleWriter {
 public:
  std::vector<uint8_t> out;
  std::vector<const SampleTensor*> storages;

  void value(const SampleValue& v) {
    using K = SampleValue::Kind;
    switch (v.kind) {
      case K::kNone: out.push_back('N'); break;
      case K::kInt: integer(v.i); break;
      case K::kStr: str(v.s); break;
      case K::kList:
        out.push_back(']');
        out.push_back('(');
        for (const SampleValue& i : v.items) value(i);
        out.push_back('e');
        break;
      case K::kDict:
        out.push_back('}');
        out.push_back('(');
        for (const auto& [k, x] : v.fields) {
          str(k);
          value(x);
        }
        out.push_back('u');
        break;
      case K::kTensor: tensor(v.tensor); break;
    }
  }
  void integer(int64_t v) {
    if (v >= INT32_MIN && v <= INT32_MAX) {
      out.push_back('J');
      for (int b = 0; b < 4; ++b) out.push_back(uint8_t((uint32_t(int32_t(v)) >> (8 * b)) & 0xff));
    } else {
      out.push_back(0x8a);
      out.push_back(8);
      for (int b = 0; b < 8; ++b) out.push_back(uint8_t((uint64_t(v) >> (8 * b)) & 0xff));
    }
  }
  void str(const std::string& s) {
    out.push_back('X');
    for (int b = 0; b < 4; ++b) out.push_back(uint8_t((s.size() >> (8 * b)) & 0xff));
    out.insert(out.end(), s.begin(), s.end());
  }
  void global(const std::string& module, const std::string& name) {
    out.push_back('c');
    out.insert(out.end(), module.begin(), module.end());
    out.push_back('\n');
    out.insert(out.end(), name.begin(), name.end());
    out.push_back('\n');
  }
  void tuple(const std::vector<int64_t>& v) {
    out.push_back('(');
    for (int64_t i : v) integer(i);
    out.push_back('t');
  }
  void tensor(const SampleTensor& t) {
    global("torch._utils", "_rebuild_tensor_v2");
    out.push_back('(');
    // persistent id ('storage', torch.IntStorage, key, 'cpu', numel)
    out.push_back('(');
    str("storage");
    global("torch", t.int64 ? "LongStorage" : "IntStorage");
    str(std::to_string(storages.size()));
    str("cpu");
    integer(int64_t(t.values.size()));
    out.push_back('t');
    out.push_back('Q');
    storages.push_back(&t);
    integer(0);
    tuple(t.shape);
    std::vector<int64_t> stride(t.shape.size(), 1);
    for (size_t d = t.shape.size(); d-- > 1;) stride[d - 1] = stride[d] * t.shape[d];
    tuple(stride);
    out.push_back(0x89);  // requires_grad False
    global("collections", "OrderedDict");
    out.push_back(')');
    out.push_back('R');
    out.push_back('t');
    out.push_back('R');
  }
};

uint32_t crc32(const std::vector<uint8_t>& d) {
  uint32_t c = 0xffffffffu;
  for (uint8_t b : d) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
  }
  return ~c;
}

void put16(std::vector<uint8_t>& o, uint32_t v) {
  o.push_back(uint8_t(v));
  o.push_back(uint8_t(v >> 8));
}
void put32(std::vector<uint8_t>& o, uint32_t v) {
  put16(o, v & 0xffff);
  put16(o, v >> 16);
}

}  // namespace

void write_torch_save(const std::filesystem::path& path, const SampleValue& value) {
  PickleWriter p;
  p.out = {0x80, 2};
  p.value(value);
  p.out.push_back('.');
  std::vector<std::pair<std::string, std::vector<uint8_t>>> entries;
  entries.emplace_back("archive/data.pkl", p.out);
  for (size_t i = 0; i < p.storages.size(); ++i) {
    std::vector<uint8_t> raw;
    const SampleTensor& t = *p.storages[i];
    for (int64_t v : t.values)
      for (int b = 0; b < (t.int64 ? 8 : 4); ++b) raw.push_back(uint8_t((uint64_t(v) >> (8 * b)) & 0xff));
    entries.emplace_back("archive/data/" + std::to_string(i), raw);
  }
  entries.emplace_back("archive/version", std::vector<uint8_t>{'3', '\n'});
  std::vector<uint8_t> zip, dir;
  for (const auto& [name, data] : entries) {
    const auto offset = uint32_t(zip.size());
    const uint32_t crc = crc32(data);
    put32(zip, 0x04034b50);
    put16(zip, 20); put16(zip, 0); put16(zip, 0); put16(zip, 0); put16(zip, 0);
    put32(zip, crc); put32(zip, uint32_t(data.size())); put32(zip, uint32_t(data.size()));
    put16(zip, uint16_t(name.size())); put16(zip, 0);
    zip.insert(zip.end(), name.begin(), name.end());
    zip.insert(zip.end(), data.begin(), data.end());
    put32(dir, 0x02014b50);
    put16(dir, 20); put16(dir, 20); put16(dir, 0); put16(dir, 0); put16(dir, 0); put16(dir, 0);
    put32(dir, crc); put32(dir, uint32_t(data.size())); put32(dir, uint32_t(data.size()));
    put16(dir, uint16_t(name.size())); put16(dir, 0); put16(dir, 0); put16(dir, 0); put16(dir, 0);
    put32(dir, 0); put32(dir, offset);
    dir.insert(dir.end(), name.begin(), name.end());
  }
  const auto dir_offset = uint32_t(zip.size());
  zip.insert(zip.end(), dir.begin(), dir.end());
  put32(zip, 0x06054b50);
  put16(zip, 0); put16(zip, 0);
  put16(zip, uint16_t(entries.size())); put16(zip, uint16_t(entries.size()));
  put32(zip, uint32_t(dir.size())); put32(zip, dir_offset); put16(zip, 0);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(zip.data()), std::streamsize(zip.size()));
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(text.data(), std::streamsize(text.size()));
}

}  // namespace moescope::storage::import::test
