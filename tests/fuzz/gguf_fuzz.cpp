// libFuzzer target for the GGUF reader. Any input must either parse or throw moescope::Error; a
// crash, a sanitizer report, another exception or a broken invariant (trap) is a finding.
//
// A file that parses is also written back with GgufWriter and parsed again: the metadata and the
// tensor bytes must survive unchanged, which checks the reader's sizes against the writer's.
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/common/error.h"
#include "engine/gguf/gguf_file.h"
#include "engine/gguf/gguf_writer.h"
#include "tests/engine/gguf/value_equal.h"

namespace {

using moescope::gguf::GgufFile;
using moescope::gguf::GgufWriter;
using moescope::gguf::TensorInfo;
using moescope::gguf::Value;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

void exercise_lookups(const GgufFile& file) {
  for (const auto& entry : file.metadata()) {
    check(file.find(entry.key) == &entry.value);
    try {
      (void)file.get_int(entry.key);
    } catch (const moescope::Error&) {
    }
    try {
      (void)file.get_float(entry.key);
    } catch (const moescope::Error&) {
    }
    try {
      (void)file.get_array(entry.key);
    } catch (const moescope::Error&) {
    }
  }
}

void check_tensors(const GgufFile& file) {
  for (const TensorInfo& t : file.tensors()) {
    check(file.find_tensor(t.name) == &t);
    check(t.n_bytes > 0 && t.offset % file.alignment() == 0);
    check(file.tensor_file_offset(t) + t.n_bytes <= file.file_size());
    const auto data = file.tensor_data(t);
    check(data.size() == t.n_bytes);
    volatile std::byte sink = data.front();  // touch both ends: ASan catches reads outside
    sink = data.back();
    (void)sink;
    for (size_t i = 1; i <= t.ne.size(); ++i) check(t.slice_bytes(i) <= t.n_bytes);
  }
}

void check_rewrite(const GgufFile& file) {
  if (file.alignment() > 65536) return;  // the writer pads for real; keep it small
  GgufWriter writer;
  writer.set_version(file.version());
  for (const auto& entry : file.metadata()) writer.set(entry.key, entry.value);
  for (const TensorInfo& t : file.tensors()) {
    const auto data = file.tensor_data(t);
    writer.add_tensor(t.name, t.type, t.ne, std::vector<std::byte>(data.begin(), data.end()));
  }
  const GgufFile again = GgufFile::open_memory(writer.to_bytes(), "rewritten");
  check(again.metadata().size() == file.metadata().size());
  for (size_t i = 0; i < file.metadata().size(); ++i) {
    check(again.metadata()[i].key == file.metadata()[i].key);
    check(moescope::test::same_value(again.metadata()[i].value, file.metadata()[i].value));
  }
  check(again.tensors().size() == file.tensors().size());
  for (size_t i = 0; i < file.tensors().size(); ++i) {
    const TensorInfo& a = file.tensors()[i];
    const TensorInfo& b = again.tensors()[i];
    check(a.name == b.name && a.type == b.type && a.ne == b.ne && a.n_bytes == b.n_bytes);
    const auto x = file.tensor_data(a);
    const auto y = again.tensor_data(b);
    check(std::equal(x.begin(), x.end(), y.begin(), y.end()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  std::optional<GgufFile> file;
  try {
    file.emplace(GgufFile::open_memory(bytes, "fuzz.gguf"));
  } catch (const moescope::Error&) {
    return 0;  // rejected cleanly
  }
  exercise_lookups(*file);
  check_tensors(*file);
  // Errors from here on are bugs: a file the reader accepted must be writable and re-readable.
  check_rewrite(*file);
  return 0;
}
