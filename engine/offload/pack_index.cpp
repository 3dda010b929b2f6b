#include "engine/offload/pack_index.h"

#include <cstring>
#include <type_traits>

#include "engine/common/error.h"
#include "engine/gguf/gguf_file.h"

namespace moescope::offload {
namespace {

// Limits that keep a hostile index from asking for absurd allocations.
constexpr uint32_t kMaxLayers = 4096;
constexpr uint32_t kMaxNameBytes = 4096;
constexpr int64_t kMaxExpertsPerLayer = 1 << 16;

class Writer {
 public:
  template <typename T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const size_t at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, &v, sizeof(T));
  }
  void put_bytes(const std::string& s) {
    const size_t at = out.size();
    out.resize(at + s.size());
    std::memcpy(out.data() + at, s.data(), s.size());
  }
  std::vector<std::byte> out;
};

class Reader {
 public:
  Reader(std::span<const std::byte> bytes, const std::string& what) : bytes_(bytes), what_(what) {}

  template <typename T>
  T get(const char* field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string get_string(size_t n, const char* field) {
    need(n, field);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  size_t remaining() const { return bytes_.size() - pos_; }
  [[noreturn]] void corrupt(const std::string& why) const {
    fail("{}: the index is corrupt ({})", what_, why);
  }

 private:
  void need(size_t n, const char* field) const {
    if (remaining() < n) corrupt(fmt::format("it ends inside {}", field));
  }
  std::span<const std::byte> bytes_;
  const std::string& what_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<std::byte> encode_pack_index(const PackIndex& index) {
  Writer w;
  w.put<uint64_t>(index.model_file_bytes);
  for (uint8_t b : index.expert_sha256) w.put<uint8_t>(b);
  w.put<uint32_t>(static_cast<uint32_t>(index.layers.size()));
  for (const LayerRecord& l : index.layers) {
    w.put<int32_t>(l.model_layer);
    w.put<int32_t>(l.n_expert);
    w.put<uint64_t>(l.packed_bytes);
    w.put<uint32_t>(static_cast<uint32_t>(l.parts.size()));
    for (const PartRecord& p : l.parts) {
      w.put<uint8_t>(p.part);
      w.put<uint32_t>(p.type);
      w.put<uint8_t>(static_cast<uint8_t>(p.ne.size()));
      for (int64_t d : p.ne) w.put<int64_t>(d);
      w.put<uint64_t>(p.file_offset);
      w.put<uint32_t>(static_cast<uint32_t>(p.name.size()));
      w.put_bytes(p.name);
    }
  }
  for (const PackFrame& f : index.frames) {
    w.put<uint64_t>(f.offset);
    w.put<uint64_t>(f.bytes);
  }
  return std::move(w.out);
}

PackIndex decode_pack_index(std::span<const std::byte> bytes, const std::string& what) {
  Reader r(bytes, what);
  PackIndex index;
  index.model_file_bytes = r.get<uint64_t>("the model size");
  for (uint8_t& b : index.expert_sha256) b = r.get<uint8_t>("the experts' digest");
  const uint32_t n_layers = r.get<uint32_t>("the layer count");
  if (n_layers == 0 || n_layers > kMaxLayers) {
    r.corrupt(fmt::format("{} MoE layers", n_layers));
  }
  int64_t n_frames = 0;
  for (uint32_t i = 0; i < n_layers; ++i) {
    LayerRecord l;
    l.model_layer = r.get<int32_t>("a layer record");
    l.n_expert = r.get<int32_t>("a layer record");
    l.packed_bytes = r.get<uint64_t>("a layer record");
    const uint32_t n_parts = r.get<uint32_t>("a layer record");
    if (l.n_expert <= 0 || l.n_expert > kMaxExpertsPerLayer) {
      r.corrupt(fmt::format("layer {} has {} experts", l.model_layer, l.n_expert));
    }
    if (n_parts == 0 || n_parts > kExpertPartCount) {
      r.corrupt(fmt::format("layer {} has {} expert parts", l.model_layer, n_parts));
    }
    for (uint32_t j = 0; j < n_parts; ++j) {
      PartRecord p;
      p.part = r.get<uint8_t>("a part record");
      p.type = r.get<uint32_t>("a part record");
      const uint8_t n_dims = r.get<uint8_t>("a part record");
      if (p.part >= kExpertPartCount || n_dims == 0 || n_dims > gguf::kMaxDims) {
        r.corrupt(fmt::format("layer {} has a bad part record", l.model_layer));
      }
      for (uint8_t d = 0; d < n_dims; ++d) p.ne.push_back(r.get<int64_t>("a tensor shape"));
      p.file_offset = r.get<uint64_t>("a part record");
      const uint32_t name_bytes = r.get<uint32_t>("a tensor name");
      if (name_bytes > kMaxNameBytes) r.corrupt("a tensor name is too long");
      p.name = r.get_string(name_bytes, "a tensor name");
      l.parts.push_back(std::move(p));
    }
    n_frames += l.n_expert;
    index.layers.push_back(std::move(l));
  }
  if (r.remaining() != static_cast<size_t>(n_frames) * 2 * sizeof(uint64_t)) {
    r.corrupt(fmt::format("{} bytes of frame entries for {} experts", r.remaining(), n_frames));
  }
  index.frames.resize(static_cast<size_t>(n_frames));
  for (PackFrame& f : index.frames) {
    f.offset = r.get<uint64_t>("a frame entry");
    f.bytes = r.get<uint64_t>("a frame entry");
  }
  return index;
}

std::string describe_layout_mismatch(const std::vector<LayerRecord>& pack,
                                     const std::vector<LayerRecord>& model) {
  if (pack.size() != model.size()) {
    return fmt::format("it has {} MoE layers, the model {}", pack.size(), model.size());
  }
  for (size_t i = 0; i < pack.size(); ++i) {
    const LayerRecord& a = pack[i];
    const LayerRecord& b = model[i];
    if (a.model_layer != b.model_layer || a.n_expert != b.n_expert) {
      return fmt::format(
          "its MoE layer {} is block {} with {} experts, the model's block {} with {}", i,
          a.model_layer, a.n_expert, b.model_layer, b.n_expert);
    }
    if (a.parts.size() != b.parts.size() || a.packed_bytes != b.packed_bytes) {
      return fmt::format("block {} has other expert tensors", b.model_layer);
    }
    for (size_t j = 0; j < a.parts.size(); ++j) {
      if (!(a.parts[j] == b.parts[j])) {
        return fmt::format("tensor '{}' of block {} differs in type, shape or place",
                           b.parts[j].name, b.model_layer);
      }
    }
  }
  return {};
}

}  // namespace moescope::offload
