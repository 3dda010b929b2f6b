#pragma once
// Writes small files of every format `moescope import` reads, from routing the test chooses, so
// that an import can be checked entry by entry (docs/import.md names each format's source). The
// .pt writer emits what torch.save does for SGLang's dumps: a ZIP of stored entries holding a
// protocol-2 pickle (dicts, lists, ints, str, None, _rebuild_tensor_v2 over persistent storages)
// and the raw little-endian storages.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace moescope::storage::import::test {

// [tokens][layers][k] expert ids, -1 = none.
using Routing = std::vector<std::vector<std::vector<int32_t>>>;

// Random routing: `dense` layers are all -1; other layers pick k distinct experts of `experts`
// and leave `padding` trailing slots -1.
Routing random_routing(std::mt19937& rng, int tokens, int layers, int k, int experts,
                       const std::vector<int>& dense = {}, int padding = 0);
std::vector<int32_t> flatten(const Routing& r);
std::string base64(const std::vector<uint8_t>& bytes);
std::vector<uint8_t> int32_bytes(const std::vector<int32_t>& v);
// A .npy buffer of int16 or int32 values with the given shape.
std::vector<uint8_t> npy(const std::vector<int32_t>& values, const std::vector<int64_t>& shape,
                         bool int16);

// A tensor for the pickle writer.
struct SampleTensor {
  std::vector<int64_t> shape;
  std::vector<int64_t> values;
  bool int64 = false;
};

// A tiny Python value tree for the pickle writer.
struct SampleValue {
  enum class Kind { kNone, kInt, kStr, kList, kDict, kTensor } kind = Kind::kNone;
  int64_t i = 0;
  std::string s;
  std::vector<SampleValue> items;                           // list
  std::vector<std::pair<std::string, SampleValue>> fields;  // dict with str keys
  SampleTensor tensor;
};
SampleValue py_int(int64_t v);
SampleValue py_str(std::string s);
SampleValue py_list(const std::vector<int64_t>& v);
SampleValue py_tensor(SampleTensor t);
SampleValue py_dict(std::vector<std::pair<std::string, SampleValue>> fields);
SampleValue py_list_of(std::vector<SampleValue> items);

// torch.save(value, path) as far as these values go.
void write_torch_save(const std::filesystem::path& path, const SampleValue& value);

void write_text(const std::filesystem::path& path, const std::string& text);

}  // namespace moescope::storage::import::test
