// A generated corpus of malformed GGUF files: each must fail with a one-line moescope::Error that
// names the file, the byte offset and the problem — never a crash or a huge allocation (this
// suite also runs under ASan/UBSan).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/gguf/gguf_file.h"
#include "engine/gguf/gguf_writer.h"
#include "tests/engine/gguf/gguf_test_util.h"
#include "tests/engine/gguf/raw_gguf.h"

namespace moescope::gguf {
namespace {

using namespace test;
using testing::HasSubstr;
using testing::StartsWith;

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();
// Tensor type ids (the metadata value type ids kU32, kI64, ... come from raw_gguf.h).
constexpr uint32_t kTensorF32 = 0, kTensorQ8_0 = 8, kTensorI64 = 27;

// 24-byte header, two metadata entries, two F32 tensors of 32 bytes each, 64 data bytes.
RawFile base() {
  RawFile f;
  f.metadata = {kv_string("general.architecture", "llama"), kv_u32("llama.block_count", 1)};
  f.tensors = {{"a", {8}, kTensorF32, 0}, {"blk.0.x", {4, 2}, kTensorF32, 32}};
  f.data_bytes = 64;
  return f;
}

RawFile with(const std::function<void(RawFile&)>& change) {
  RawFile f = base();
  change(f);
  return f;
}

std::function<void(RawBuilder&)> nested_arrays(int depth) {
  return kv_raw("deep", [depth](RawBuilder& b) {
    b.u32(kArray);
    for (int i = 1; i < depth; ++i) b.u32(kArray).u64(1);
    b.u32(kU8).u64(1).u8(42);
  });
}

struct Case;
void PrintTo(const Case& c, std::ostream* os);

struct Case {
  const char* name;
  std::function<std::vector<std::byte>()> bytes;
  std::string expected;               // part of the message after "at byte N: "
  std::optional<uint64_t> at_byte{};  // where the problem is, when the test pins it
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

// Opens `bytes` from memory and from a file; both must throw an Error naming `name` and a byte.
std::string expect_rejected(const std::vector<std::byte>& bytes, const std::string& name) {
  std::string message;
  static TempDir dir("gguf-malformed");
  const auto path = dir / (name + ".gguf");
  write_bytes(path, bytes);
  for (bool memory : {true, false}) {
    try {
      if (memory) {
        (void)GgufFile::open_memory(bytes, path.string());
      } else {
        (void)GgufFile::open(path);
      }
      ADD_FAILURE() << name << " opened without an error (" << (memory ? "memory" : "file") << ")";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_THAT(what, StartsWith(path.string() + ": at byte ")) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      if (memory) {
        message = what;
      } else {
        EXPECT_EQ(what, message);  // one code path for both
      }
    }
  }
  return message;
}

class Malformed : public testing::TestWithParam<Case> {};

TEST_P(Malformed, FailsWithPathOffsetAndReason) {
  const Case& c = GetParam();
  const std::string message = expect_rejected(c.bytes(), c.name);
  EXPECT_THAT(message, HasSubstr(c.expected));
  if (c.at_byte) {
    EXPECT_THAT(message, HasSubstr(fmt::format(": at byte {}: ", *c.at_byte)));
  }
}

std::vector<Case> cases() {
  auto build = [](std::function<void(RawFile&)> change) {
    return [change] { return with(change).build(); };
  };
  return {
      {"EmptyFile", [] { return std::vector<std::byte>(); }, "too short", 0},
      {"ThreeBytes", [] { return RawBuilder().chars("GGU").bytes; }, "too short", 0},
      {"BadMagic", build([](RawFile& f) { f.magic = 0x46554746; }), "bad magic", 0},
      {"Version1", build([](RawFile& f) { f.version = 1; }), "GGUF version 1 is not supported", 4},
      {"Version7", build([](RawFile& f) { f.version = 7; }), "unsupported GGUF version 7", 4},
      {"BigEndian", build([](RawFile& f) { f.version = 0x03000000; }), "big-endian", 4},
      {"TensorCountHuge", build([](RawFile& f) { f.tensor_count = kU64Max; }),
       "tensor count 18446744073709551615 needs at least 590295810358705651680 bytes", 8},
      {"TensorCountTooLarge", build([](RawFile& f) { f.tensor_count = 7; }),
       "the infos of 7 tensors need at least 224 bytes, but only 154 are left", 102},
      {"TensorCountOneTooMany", build([](RawFile& f) { f.tensor_count = 3; }), ""},
      {"MetadataCountHuge", build([](RawFile& f) { f.metadata_count = kU64Max / 2; }),
       "metadata count", 16},
      {"MetadataCountOneTooMany", build([](RawFile& f) { f.metadata_count = 3; }), ""},
      {"KeyLengthHuge",
       build([](RawFile& f) { f.metadata[0] = [](RawBuilder& b) { b.u64(kU64Max); }; }),
       "string length 18446744073709551615 of the key", 24},
      {"StringValueLengthHuge", build([](RawFile& f) {
         f.metadata[0] = kv_raw("k", [](RawBuilder& b) { b.u32(kString).u64(uint64_t{1} << 40); });
       }),
       "string length 1099511627776 of a string value in the value of key 'k' exceeds the",
       24 + 9 + 4},
      {"EmptyKey", build([](RawFile& f) { f.metadata[0] = kv_u32("", 1); }), "empty key", 24},
      {"UnknownValueType", build([](RawFile& f) {
         f.metadata[0] = kv_raw("k", [](RawBuilder& b) { b.u32(13).u32(0); });
       }),
       "unknown metadata value type 13", 24 + 9},
      {"ArrayCountHuge", build([](RawFile& f) {
         f.metadata[0] =
             kv_raw("k", [](RawBuilder& b) { b.u32(kArray).u32(kU32).u64(uint64_t{1} << 62); });
       }),
       "array of 4611686018427387904 uint32 values"},
      {"ArrayOfStringsTooLong", build([](RawFile& f) {
         f.metadata[0] =
             kv_raw("k", [](RawBuilder& b) { b.u32(kArray).u32(kString).u64(1000).str("x"); });
       }),
       "array of 1000 string values in the value of key 'k' needs at least 8000 bytes"},
      {"ArrayStringLengthHuge", build([](RawFile& f) {
         f.metadata[0] = kv_raw(
             "k", [](RawBuilder& b) { b.u32(kArray).u32(kString).u64(2).str("x").u64(kU64Max); });
       }),
       "string length 18446744073709551615 of an array string"},
      {"ArrayUnknownElementType", build([](RawFile& f) {
         f.metadata[0] = kv_raw("k", [](RawBuilder& b) { b.u32(kArray).u32(99).u64(0); });
       }),
       "unknown metadata value type 99"},
      {"ArraysNestedTooDeep", build([](RawFile& f) { f.metadata[0] = nested_arrays(9); }),
       "nested deeper than 8"},
      {"NestedArrayCountHuge", build([](RawFile& f) {
         f.metadata[0] = kv_raw("k", [](RawBuilder& b) {
           b.u32(kArray).u32(kArray).u64(1).u32(kI64).u64(kU64Max / 8);
         });
       }),
       "int64 values"},
      {"BoolNotZeroOrOne", build([](RawFile& f) {
         f.metadata[0] = kv_raw("k", [](RawBuilder& b) { b.u32(kBool).u8(2); });
       }),
       "bool value 2 is neither 0 nor 1"},
      {"BoolArrayElementBad", build([](RawFile& f) {
         f.metadata[0] =
             kv_raw("k", [](RawBuilder& b) { b.u32(kArray).u32(kBool).u64(2).u8(1).u8(5); });
       }),
       "bool value 5 is neither 0 nor 1"},
      {"DuplicateKey",
       build([](RawFile& f) { f.metadata[1] = kv_string("general.architecture", "x"); }),
       "duplicate metadata key 'general.architecture'", 69},
      {"AlignmentZero", build([](RawFile& f) { f.metadata[1] = kv_u32("general.alignment", 0); }),
       "general.alignment 0 is not a nonzero power of two"},
      {"AlignmentNotPowerOfTwo",
       build([](RawFile& f) { f.metadata[1] = kv_u32("general.alignment", 48); }),
       "general.alignment 48 is not a nonzero power of two"},
      {"AlignmentString",
       build([](RawFile& f) { f.metadata[1] = kv_string("general.alignment", "32"); }),
       "general.alignment has type string"},
      {"AlignmentNegative", build([](RawFile& f) {
         f.metadata[1] = kv_raw("general.alignment", [](RawBuilder& b) { b.u32(kI32).u32(-32); });
       }),
       "general.alignment -32 is negative"},
      {"AlignmentHuge", build([](RawFile& f) {
         f.metadata[1] =
             kv_raw("general.alignment", [](RawBuilder& b) { b.u32(kU64).u64(uint64_t{1} << 63); });
       }),
       "starts past the end of the file"},
      {"TensorZeroDims", build([](RawFile& f) { f.tensors[0].ne = {}; }),
       "tensor 'a' has 0 dimensions"},
      {"TensorFiveDims", build([](RawFile& f) {
         f.tensors[0].ne = {8, 1, 1, 1, 1};
       }),
       "tensor 'a' has 5 dimensions"},
      {"TensorDimensionCountHuge",
       [] {
         auto bytes = base().build();
         const uint32_t n_dims =
             0xffffffff;  // tensor 'a' starts at byte 102, n_dims after its name
         std::memcpy(bytes.data() + 111, &n_dims, sizeof n_dims);
         return bytes;
       },
       "tensor 'a' has 4294967295 dimensions (must be 1 to 4)", 111},
      {"TensorZeroDimension", build([](RawFile& f) {
         f.tensors[1].ne = {8, 0};
       }),
       "tensor 'blk.0.x' has dimension 0 in ne[1]"},
      {"TensorHugeDimension", build([](RawFile& f) { f.tensors[0].ne = {uint64_t{1} << 63}; }),
       "tensor 'a' dimension ne[0] = 9223372036854775808 is too large"},
      {"TensorElementCountOverflows", build([](RawFile& f) {
         f.tensors[0].ne = {uint64_t{1} << 32, uint64_t{1} << 32};
       }),
       "tensor 'a' element count overflows"},
      {"TensorByteSizeOverflows", build([](RawFile& f) {
         f.tensors[0].ne = {uint64_t{1} << 61};
         f.tensors[0].type = kTensorI64;
       }),
       "byte size that overflows"},
      {"TensorHugeButValid", build([](RawFile& f) {
         f.tensors[0].ne = {uint64_t{1} << 40, 1 << 20};
       }),
       "tensor 'a' data [192, 4611686018427388096) lies outside the file (size 256)"},
      {"UnknownTensorType", build([](RawFile& f) { f.tensors[0].type = 77; }),
       "unknown tensor type 77 for 'a'"},
      {"RowNotMultipleOfBlock", build([](RawFile& f) {
         f.tensors[0].ne = {33};
         f.tensors[0].type = kTensorQ8_0;
       }),
       "tensor 'a' rows of 33 values are not a multiple of the block size 32 of Q8_0"},
      {"MisalignedOffset", build([](RawFile& f) { f.tensors[1].offset = 33; }),
       "tensor 'blk.0.x' offset 33 is not a multiple of the alignment 32"},
      {"OffsetOutsideFile", build([](RawFile& f) { f.tensors[1].offset = 1 << 20; }),
       "tensor 'blk.0.x' data [1048768, 1048800) lies outside the file (size 256)"},
      {"OffsetNearUint64Max", build([](RawFile& f) { f.tensors[1].offset = kU64Max - 31; }),
       "lies outside the file (size 256)"},
      {"TensorEndsPastFile", build([](RawFile& f) { f.data_bytes = 48; }),
       "tensor 'blk.0.x' data [224, 256) lies outside the file (size 240)"},
      {"OverlappingTensors", build([](RawFile& f) { f.tensors[1].offset = 0; }),
       "tensors 'a' and 'blk.0.x' overlap"},
      {"PartlyOverlappingTensors", build([](RawFile& f) {
         f.tensors[0].ne = {16};
         f.data_bytes = 96;
       }),
       "tensors 'a' and 'blk.0.x' overlap"},
      {"DuplicateTensorName", build([](RawFile& f) { f.tensors[1].name = "a"; }),
       "duplicate tensor name 'a'"},
      {"EmptyTensorName", build([](RawFile& f) { f.tensors[1].name = ""; }), "empty name"},
      {"ControlCharactersInNameStayOnOneLine",
       build([](RawFile& f) { f.tensors[0].name = f.tensors[1].name = "x\ny"; }),
       "duplicate tensor name 'x\\x0ay'"},
      {"DataSectionPastEnd",
       [] {
         auto bytes = base().build();
         bytes.resize(182);  // the tensor infos end at byte 182, the data would start at 192
         return bytes;
       },
       "the tensor data section at byte 192 starts past the end of the file (size 182)", 182},
  };
}

INSTANTIATE_TEST_SUITE_P(Corpus, Malformed, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(GgufMalformed, BaseFileAndNestingWithinTheLimitAreValid) {
  // Makes sure each corpus entry fails because of its one change.
  const GgufFile f = GgufFile::open_memory(base().build(), "base");
  EXPECT_EQ(f.file_size(), 256u);
  EXPECT_EQ(f.data_offset(), 192u);
  EXPECT_EQ(f.tensors().size(), 2u);
  const GgufFile deep = GgufFile::open_memory(
      with([](RawFile& r) { r.metadata[0] = nested_arrays(8); }).build(), "deep");
  const Value* v = deep.find("deep");
  for (int i = 0; i < 7; ++i) v = &std::get<std::vector<Value>>(v->as_array().items)[0];
  EXPECT_EQ(std::get<std::vector<uint8_t>>(v->as_array().items), std::vector<uint8_t>{42});
}

// A few KB written by GgufWriter with every kind of section.
std::vector<std::byte> small_valid_file() {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 2);
  w.set_f32("llama.rope.freq_base", 10000.0f);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  std::vector<std::string> tokens;
  for (int i = 0; i < 40; ++i) tokens.push_back("tok" + std::to_string(i));
  w.set_array("tokenizer.ggml.tokens", tokens);
  w.set_array("tokenizer.ggml.scores", std::vector<float>(40, -1.0f));
  w.set_array("nested", std::vector<Value>{make_value(make_array(std::vector<int64_t>{1, 2})),
                                           make_value(make_array(std::vector<std::string>{"z"}))});
  w.add_tensor("token_embd.weight", GgmlType::F32, {8, 40}, std::vector<std::byte>(8 * 40 * 4));
  w.add_tensor("blk.0.attn_q.weight", GgmlType::F16, {8, 8}, std::vector<std::byte>(128));
  w.add_tensor("blk.1.ffn_down_exps.weight", GgmlType::Q4_K, {256, 1, 2},
               std::vector<std::byte>(2 * 144, std::byte{3}));
  // Last, and not a multiple of the alignment: the file ends with padding.
  w.add_tensor("blk.0.ffn_up_exps.weight", GgmlType::Q8_0, {32, 4, 2},
               std::vector<std::byte>(8 * 34, std::byte{1}));
  return w.to_bytes();
}

TEST(GgufMalformed, TruncationAtEveryByteFailsCleanly) {
  const std::vector<std::byte> full = small_valid_file();
  ASSERT_GT(full.size(), 2000u);
  ASSERT_LT(full.size(), 8000u);
  const GgufFile whole = GgufFile::open_memory(full, "whole");
  uint64_t data_end = 0;
  for (const auto& t : whole.tensors()) data_end = std::max(data_end, t.offset + t.n_bytes);
  data_end += whole.data_offset();
  ASSERT_LT(data_end, full.size());  // the writer pads after the last tensor

  TempDir dir("gguf-truncated");
  const auto path = dir / "truncated.gguf";
  for (size_t n = 0; n < full.size(); ++n) {
    const std::vector<std::byte> prefix(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
    write_bytes(path, prefix);
    for (bool memory : {true, false}) {
      if (n >= data_end) {  // only the final padding is missing: still a complete file
        const GgufFile f =
            memory ? GgufFile::open_memory(prefix, path.string()) : GgufFile::open(path);
        EXPECT_EQ(f.tensors().size(), 4u);
        continue;
      }
      try {
        (void)(memory ? GgufFile::open_memory(prefix, path.string()) : GgufFile::open(path));
        ADD_FAILURE() << "a prefix of " << n << " bytes opened";
      } catch (const Error& e) {
        EXPECT_THAT(e.what(), StartsWith(path.string() + ": at byte ")) << n;
      }
    }
  }
}

// Random byte changes of a valid file either open (and then every tensor is readable) or fail
// with an Error; anything else (a crash, another exception, a sanitizer report) is a bug.
TEST(GgufMalformed, RandomCorruptionsFailCleanly) {
  const std::vector<std::byte> full = small_valid_file();
  std::mt19937 rng(12345);
  int rejected = 0;
  for (int iteration = 0; iteration < 4000; ++iteration) {
    std::vector<std::byte> bytes = full;
    const int n_changes = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < n_changes; ++k) {
      const size_t pos = rng() % bytes.size();
      switch (rng() % 3) {
        case 0:
          bytes[pos] = static_cast<std::byte>(rng() & 0xff);
          break;
        case 1:
          bytes[pos] = std::byte{0xff};
          break;
        default:
          bytes[pos] ^= static_cast<std::byte>(1u << (rng() % 8));
          break;
      }
    }
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    try {
      const GgufFile f = GgufFile::open_memory(bytes, "mutant");
      uint64_t sum = 0;
      for (const auto& t : f.tensors()) {
        const auto data = f.tensor_data(t);
        sum += static_cast<uint64_t>(data.front()) + static_cast<uint64_t>(data.back());
      }
      (void)sum;
    } catch (const Error& e) {
      ++rejected;
      EXPECT_THAT(e.what(), StartsWith("mutant: at byte "));
    }
  }
  EXPECT_GT(rejected, 1000);
}

TEST(GgufMalformed, UnreadablePathsNameThePath) {
  TempDir dir("gguf-paths");
  for (const auto& path : {dir / "does-not-exist.gguf", dir.path()}) {
    try {
      (void)GgufFile::open(path);
      ADD_FAILURE() << path << " opened";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), StartsWith(path.string() + ": "));
    }
  }
}

}  // namespace
}  // namespace moescope::gguf
