#include "storage/import/sglang_dump.h"

#include <cstring>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/common/error.h"
#include "storage/import/pickle_reader.h"
#include "storage/import/zip_archive.h"

namespace moescope::storage::import {
namespace {

using Kind = PyObject::Kind;

// forward_mode values of SGLang's ForwardMode enum (model_executor/forward_batch_info.py).
constexpr int64_t kForwardDecode = 2;

int element_bytes(const std::string& dtype) {
  if (dtype == "IntStorage") return 4;
  if (dtype == "LongStorage") return 8;
  if (dtype == "ShortStorage") return 2;
  if (dtype == "ByteStorage" || dtype == "CharStorage") return 1;
  return 0;
}

// An integer tensor of the archive, read whole (widened to int64).
struct IntTensor {
  std::vector<int64_t> shape;
  std::vector<int64_t> values;  // C order
  int64_t at(std::initializer_list<int64_t> idx) const {
    int64_t flat = 0;
    size_t d = 0;
    for (int64_t i : idx) flat = flat * shape[d++] + i;
    return values[size_t(flat)];
  }
};

class Archive {
 public:
  explicit Archive(const std::filesystem::path& path) : path_(path.string()), zip_(path) {
    const ZipArchive::Entry* pkl = zip_.find_suffix("/data.pkl");
    if (pkl == nullptr) pkl = zip_.find("data.pkl");
    if (pkl == nullptr) fail("{} is a ZIP archive but not a torch.save file (no data.pkl)", path_);
    prefix_ = pkl->name.substr(0, pkl->name.size() - std::strlen("data.pkl"));
    const std::vector<uint8_t> bytes = zip_.read_all(*pkl, uint64_t(1) << 31);
    root_ = unpickle(bytes, path_ + " (data.pkl)");
  }

  const PyObject& root() const { return *root_; }
  const std::string& path() const { return path_; }

  IntTensor read(const PyObject& t, std::string_view name, uint64_t max_elements) const {
    if (t.kind != Kind::kTensor) fail("{}: {} is a {}, not a tensor", path_, name, t.kind_name());
    const PyTensor& pt = t.tensor;
    const int width = element_bytes(pt.dtype);
    if (width == 0) fail("{}: {} is a {} tensor, not integers", path_, name, pt.dtype);
    IntTensor out;
    out.shape = pt.shape;
    uint64_t n = 1;
    for (int64_t d : pt.shape) {
      if (d != 0 && n > max_elements / uint64_t(d)) fail("{}: {} is too large", path_, name);
      n *= uint64_t(d);
    }
    const ZipArchive::Entry* e = zip_.find(prefix_ + "data/" + pt.storage_key);
    if (e == nullptr) fail("{}: the storage of {} is missing (truncated?)", path_, name);
    out.values.resize(size_t(n));
    if (n == 0) return out;
    // The span of storage the view touches.
    int64_t last = pt.offset;
    for (size_t d = 0; d < pt.shape.size(); ++d) {
      if (pt.stride[d] < 0) fail("{}: {} has a negative stride", path_, name);
      last += (pt.shape[d] - 1) * pt.stride[d];
    }
    const uint64_t first_byte = uint64_t(pt.offset) * uint64_t(width);
    const uint64_t span_bytes = (uint64_t(last - pt.offset) + 1) * uint64_t(width);
    if (span_bytes > (uint64_t(1) << 33)) fail("{}: {} is too large", path_, name);
    std::vector<uint8_t> raw(static_cast<size_t>(span_bytes));
    zip_.read(*e, first_byte, raw.data(), raw.size());
    std::vector<int64_t> idx(pt.shape.size(), 0);
    for (uint64_t i = 0; i < n; ++i) {
      int64_t off = 0;
      for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * pt.stride[d];
      const uint8_t* p = raw.data() + size_t(off) * size_t(width);
      int64_t v = 0;
      switch (width) {
        case 1: v = pt.dtype == "ByteStorage" ? int64_t(p[0]) : int64_t(int8_t(p[0])); break;
        case 2: { int16_t s; std::memcpy(&s, p, 2); v = s; break; }
        case 4: { int32_t s; std::memcpy(&s, p, 4); v = s; break; }
        default: std::memcpy(&v, p, 8);
      }
      out.values[size_t(i)] = v;
      for (size_t d = idx.size(); d-- > 0;) {
        if (++idx[d] < pt.shape[d]) break;
        idx[d] = 0;
      }
    }
    return out;
  }

 private:
  std::string path_;
  ZipArchive zip_;
  std::string prefix_;
  PyRef root_;
};

std::vector<int64_t> int_list(const PyObject* o, std::string_view what, const std::string& file) {
  if (o == nullptr || (o->kind != Kind::kList && o->kind != Kind::kTuple))
    fail("{}: {} is not a list", file, what);
  std::vector<int64_t> out;
  out.reserve(o->items.size());
  for (const PyRef& v : o->items) {
    if (v->kind != Kind::kInt) fail("{}: {} holds a {}, not ints", file, what, v->kind_name());
    out.push_back(v->i);
  }
  return out;
}

class PerTokenDump : public RoutingFile {
 public:
  explicit PerTokenDump(std::shared_ptr<Archive> a) : a_(std::move(a)) {
    const PyObject& root = a_->root();
    const PyObject* map = root.get("last_physical_to_logical_map");
    if (map == nullptr) fail("{}: a per-token dump without last_physical_to_logical_map", a_->path());
    map_ = a_->read(*map, "last_physical_to_logical_map", uint64_t(1) << 26);
    if (map_.shape.size() != 2 || map_.shape[0] < 1 || map_.shape[1] < 1)
      fail("{}: last_physical_to_logical_map is not [layers, physical experts]", a_->path());
    for (int64_t v : map_.values) {
      if (v < 0 || v > 65535) fail("{}: the physical->logical map holds {}", a_->path(), v);
    }
    records_ = root.get("records");
    if (records_ == nullptr || records_->kind != Kind::kList)
      fail("{}: no records list", a_->path());
    for (const PyRef& r : records_->items) {
      if (r->kind != Kind::kDict) fail("{}: a record is not a dict", a_->path());
      if (r->get("topk_ids_of_layer") == nullptr) {
        fail("{} is a per_pass dump (counts per forward pass, no tokens): record with "
             "--expert-distribution-recorder-mode per_token or stat",
             a_->path());
      }
    }
  }

  std::string format() const override { return "sglang-pt"; }

  void read(RoutingVisitor& v) override {
    const std::string& file = a_->path();
    const int64_t L = map_.shape[0], P = map_.shape[1];
    // Requests in the order they joined, by the next position each expects.
    std::multimap<int64_t, int32_t> waiting;  // next position -> request
    int32_t next_request = 0;
    std::vector<int32_t> ids;
    std::string where;
    for (size_t ri = 0; ri < records_->items.size(); ++ri) {
      const PyObject& rec = *records_->items[ri];
      const std::vector<int64_t> input_ids = int_list(rec.get("input_ids"), "input_ids", file);
      const std::vector<int64_t> positions = int_list(rec.get("positions"), "positions", file);
      const auto T = int64_t(input_ids.size());
      if (int64_t(positions.size()) != T)
        fail("{}: record {} has {} input ids but {} positions", file, ri, T, positions.size());
      const IntTensor topk =
          a_->read(*rec.get("topk_ids_of_layer"), "topk_ids_of_layer", uint64_t(1) << 30);
      if (topk.shape.size() != 3 || topk.shape[0] != L || topk.shape[1] != T)
        fail("{}: record {}: topk_ids_of_layer is not [{} layers, {} tokens, k]", file, ri, L, T);
      const int64_t K = topk.shape[2];
      if (K < 1 || K > 255) fail("{}: record {}: top-k {}", file, ri, K);
      const PyObject* mode = rec.get("forward_mode");
      const bool decode = mode && mode->kind == Kind::kInt && mode->i == kForwardDecode;
      const PyObject* fp = rec.get("forward_pass_id");
      const int32_t step = fp && fp->kind == Kind::kInt ? int32_t(fp->i) : int32_t(ri);
      // Sequences of this pass.
      std::vector<int64_t> lens;
      const PyObject* esl = rec.get("extend_seq_lens");
      if (!decode && esl != nullptr && esl->kind != Kind::kNone) {
        lens = int_list(esl, "extend_seq_lens", file);
        int64_t sum = 0;
        for (int64_t n : lens) {
          if (n < 0) fail("{}: record {}: a negative extend length", file, ri);
          sum += n;
        }
        if (sum != T) fail("{}: record {}: extend_seq_lens sum to {}, not {} tokens", file, ri, sum, T);
      } else {
        lens.assign(size_t(T), 1);
      }
      int64_t t = 0;
      for (size_t s = 0; s < lens.size(); ++s) {
        if (lens[s] == 0) continue;
        const int64_t p0 = positions[size_t(t)];
        int32_t request = -1;
        if (p0 > 0) {
          auto it = waiting.find(p0);
          if (it != waiting.end()) {
            request = it->second;
            waiting.erase(it);
          }
        }
        if (request < 0) {
          request = next_request++;
          nlohmann::json src = {{"record", ri}, {"sequence", s}, {"first_position", p0}};
          if (p0 > 0) src["started_before_recording"] = true;
          v.request({request, false, "", src.dump()});
        }
        for (int64_t i = 0; i < lens[s]; ++i, ++t) {
          ids.assign(size_t(L * K), -1);
          for (int64_t l = 0; l < L; ++l) {
            for (int64_t k = 0; k < K; ++k) {
              const int64_t phys = topk.at({l, t, k});
              if (phys == -1) continue;
              if (phys < 0 || phys >= P)
                fail("{}: record {} token {} layer {}: physical expert {} is not in the map "
                     "({} physical experts)",
                     file, ri, t, l, phys, P);
              ids[size_t(l * K + k)] = int32_t(map_.at({l, phys}));
            }
          }
          ImportedToken tok;
          tok.request = request;
          tok.step = step;
          tok.phase = decode ? policy::Phase::kDecode : policy::Phase::kPrefill;
          tok.token_id = input_ids[size_t(t)] >= 0 && input_ids[size_t(t)] <= INT32_MAX
                             ? int32_t(input_ids[size_t(t)])
                             : -1;
          tok.n_layers = int32_t(L);
          tok.k = int32_t(K);
          tok.experts = ids;
          where = fmt::format("record {}, token {}", ri, t);
          tok.where = where;
          v.token(tok);
        }
        waiting.emplace(positions[size_t(t - 1)] + 1, request);
      }
    }
  }

 private:
  std::shared_ptr<Archive> a_;
  IntTensor map_;
  const PyObject* records_ = nullptr;
};

}  // namespace

SglangDump open_sglang_dump(const std::filesystem::path& path) {
  auto a = std::make_shared<Archive>(path);
  const PyObject& root = a->root();
  if (root.kind != Kind::kDict)
    fail("{} is not an SGLang expert distribution dump (its object is a {})", path.string(),
         root.kind_name());
  SglangDump d;
  if (const PyObject* lc = root.get("logical_count")) {
    IntTensor c = a->read(*lc, "logical_count", uint64_t(1) << 28);
    if (c.shape.size() == 2) c.shape.insert(c.shape.begin(), 1);  // [layers, experts]: one step
    if (c.shape.size() != 3 || c.shape[1] < 1 || c.shape[2] < 1 || c.shape[1] > 4096 ||
        c.shape[2] > 65536)
      fail("{}: logical_count is not [steps, layers, experts]", path.string());
    SglangStatDump s;
    s.n_steps = c.shape[0];
    s.n_layers = int32_t(c.shape[1]);
    s.n_experts = int32_t(c.shape[2]);
    s.counts.reserve(c.values.size());
    for (int64_t v : c.values) {
      if (v < 0 || v > INT32_MAX) fail("{}: logical_count holds {}", path.string(), v);
      s.counts.push_back(int32_t(v));
    }
    d.stat = std::move(s);
    return d;
  }
  if (root.get("records") == nullptr)
    fail("{} is not an SGLang expert distribution dump (no records or logical_count)",
         path.string());
  d.per_token = std::make_unique<PerTokenDump>(a);
  return d;
}

}  // namespace moescope::storage::import
