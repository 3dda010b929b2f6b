// GgufWriter -> GgufFile round trips: every value type, nested arrays, several tensor types,
// versions and alignments; the writer's bytes match an independent field-by-field encoding.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "engine/common/error.h"
#include "engine/gguf/gguf_file.h"
#include "engine/gguf/gguf_writer.h"
#include "tests/engine/gguf/gguf_test_util.h"
#include "tests/engine/gguf/raw_gguf.h"

namespace moescope::gguf {
namespace {

using testing::HasSubstr;

std::vector<std::byte> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng() & 0xff);
  return out;
}

float nan_with_payload() {
  const uint32_t bits = 0x7fc01234;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

Value nested(std::vector<Value> items) {
  return make_value(make_array(std::move(items)));
}

// Sets one key of every value type and arrays of every element type, including arrays of arrays.
void set_every_value_type(GgufWriter& w) {
  w.set("t.u8", make_value(uint8_t{255}));
  w.set("t.i8", make_value(int8_t{-128}));
  w.set("t.u16", make_value(uint16_t{65535}));
  w.set("t.i16", make_value(int16_t{-32768}));
  w.set_u32("t.u32", std::numeric_limits<uint32_t>::max());
  w.set_i32("t.i32", std::numeric_limits<int32_t>::min());
  w.set_f32("t.f32.nan", nan_with_payload());
  w.set_f32("t.f32.negzero", -0.0f);
  w.set_f32("t.f32.inf", -std::numeric_limits<float>::infinity());
  w.set_bool("t.bool.true", true);
  w.set_bool("t.bool.false", false);
  w.set_string("t.str", std::string("h\xc3\xa9llo \xe2\x9c\x93 with a \0 inside", 26));
  w.set_string("t.str.empty", "");
  w.set_u64("t.u64", std::numeric_limits<uint64_t>::max());
  w.set_i64("t.i64", std::numeric_limits<int64_t>::min());
  w.set_f64("t.f64", std::numeric_limits<double>::denorm_min());
  w.set_array("a.u8", std::vector<uint8_t>{0, 1, 255});
  w.set_array("a.u8.empty", std::vector<uint8_t>{});
  w.set_array("a.i8", std::vector<int8_t>{-1, 127});
  w.set_array("a.u16", std::vector<uint16_t>{7, 65535});
  w.set_array("a.i16", std::vector<int16_t>{-7, 300});
  w.set_array("a.u32", std::vector<uint32_t>{1, 2, 3});
  w.set_array("a.i32", std::vector<int32_t>{-1, 0, 1});
  w.set_array("a.f32", std::vector<float>{0.5f, -1e30f, nan_with_payload()});
  w.set_array("a.bool", std::vector<bool>{true, false, true});
  w.set_array("a.str",
              std::vector<std::string>{"a", "", "\xe2\x96\x81token", std::string(300, 'x')});
  w.set_array("a.u64", std::vector<uint64_t>{std::numeric_limits<uint64_t>::max()});
  w.set_array("a.i64", std::vector<int64_t>{-5, 5});
  w.set_array("a.f64", std::vector<double>{3.25, -0.0});
  w.set_array("a.nested.i32", std::vector<Value>{
                                  make_value(make_array(std::vector<int32_t>{1, 2})),
                                  make_value(make_array(std::vector<int32_t>{3})),
                                  make_value(make_array(std::vector<int32_t>{})),
                              });
  w.set_array("a.nested.str", std::vector<Value>{
                                  make_value(make_array(std::vector<std::string>{"x", "yz"})),
                                  make_value(make_array(std::vector<float>{1.5f})),
                              });
  w.set_array("a.nested3", std::vector<Value>{
                               nested({make_value(make_array(std::vector<uint16_t>{9}))}),
                               nested({}),
                           });
  w.set_array("a.nested.empty", std::vector<Value>{});
}

struct TensorSpec {
  const char* name;
  GgmlType type;
  std::vector<int64_t> ne;
};

const std::vector<TensorSpec> kTensors = {
    {"f32", GgmlType::F32, {3, 5}},       {"f16", GgmlType::F16, {16, 2}},
    {"bf16", GgmlType::BF16, {7}},        {"q8_0", GgmlType::Q8_0, {64, 3}},
    {"q4_k", GgmlType::Q4_K, {256, 2}},   {"blk.0.ffn_up_exps", GgmlType::MXFP4, {32, 2, 3}},
    {"i32", GgmlType::I32, {5, 1, 1, 2}}, {"q5_1", GgmlType::Q5_1, {32}},
    {"q6_k", GgmlType::Q6_K, {256}},      {"q4_0", GgmlType::Q4_0, {32, 1, 2}},
};

uint64_t expected_bytes(const TensorSpec& s) {
  const GgmlTypeTraits& t = ggml_type_traits(s.type);
  uint64_t rows = 1;
  for (size_t i = 1; i < s.ne.size(); ++i) rows *= static_cast<uint64_t>(s.ne[i]);
  return rows * static_cast<uint64_t>(s.ne[0]) / t.block_size * t.block_bytes;
}

class RoundTrip : public testing::TestWithParam<std::tuple<uint32_t, uint64_t>> {};

TEST_P(RoundTrip, EveryValueTypeAndTensorReadsBackEqual) {
  const auto [version, alignment] = GetParam();
  GgufWriter w;
  w.set_version(version);
  w.set_string("general.architecture", "test");
  if (alignment != kDefaultAlignment) w.set_alignment(alignment);
  set_every_value_type(w);
  std::vector<std::vector<std::byte>> data;
  for (size_t i = 0; i < kTensors.size(); ++i) {
    data.push_back(random_bytes(expected_bytes(kTensors[i]), static_cast<uint32_t>(i)));
    w.add_tensor(kTensors[i].name, kTensors[i].type, kTensors[i].ne, data.back());
  }

  test::TempDir dir("gguf-roundtrip");
  const auto path = dir / "model.gguf";
  w.write(path);
  const std::vector<std::byte> bytes = w.to_bytes();
  EXPECT_TRUE(test::read_bytes(path) == bytes);

  const GgufFile from_disk = GgufFile::open(path);
  const GgufFile from_memory = GgufFile::open_memory(bytes, "in-memory");
  for (const GgufFile* file : {&from_disk, &from_memory}) {
    SCOPED_TRACE(file->path().string());
    EXPECT_EQ(file->version(), version);
    EXPECT_EQ(file->alignment(), alignment);
    EXPECT_EQ(file->file_size(), bytes.size());
    EXPECT_EQ(file->data_offset() % alignment, 0u);
    ASSERT_EQ(file->metadata().size(), w.metadata().size());
    for (size_t i = 0; i < w.metadata().size(); ++i) {
      EXPECT_EQ(file->metadata()[i].key, w.metadata()[i].key);
      EXPECT_TRUE(test::same_value(file->metadata()[i].value, w.metadata()[i].value))
          << w.metadata()[i].key;
    }
    ASSERT_EQ(file->tensors().size(), kTensors.size());
    for (size_t i = 0; i < kTensors.size(); ++i) {
      const TensorInfo& t = file->tensors()[i];
      EXPECT_EQ(t.name, kTensors[i].name);
      EXPECT_EQ(t.type, kTensors[i].type);
      EXPECT_EQ(t.ne, kTensors[i].ne);
      EXPECT_EQ(t.n_bytes, data[i].size());
      EXPECT_EQ(t.offset % alignment, 0u);
      const auto got = file->tensor_data(t);
      EXPECT_TRUE(std::equal(got.begin(), got.end(), data[i].begin(), data[i].end())) << t.name;
    }
  }
  // Typed look-ups see the written values.
  EXPECT_EQ(from_disk.get_int("t.i32"), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(from_disk.get_int("t.u32"), std::numeric_limits<uint32_t>::max());
  EXPECT_EQ(from_disk.get_string("t.str")->size(), 26u);
  EXPECT_EQ(from_disk.get_bool("t.bool.true"), true);
  EXPECT_TRUE(std::isnan(*from_disk.get_float("t.f32.nan")));
  EXPECT_EQ(from_disk.get_array("a.nested.i32")->size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(VersionsAndAlignments, RoundTrip,
                         testing::Combine(testing::Values(2u, 3u),
                                          testing::Values(uint64_t{1}, uint64_t{8}, uint64_t{32},
                                                          uint64_t{64}, uint64_t{4096})));

TEST(GgufWriter, BytesMatchAnIndependentEncoding) {
  GgufWriter w;
  w.set_alignment(64);
  w.set_string("general.architecture", "llama");
  w.set_array("tokenizer.ggml.tokens", std::vector<std::string>{"<s>", "ab"});
  w.set_array("n", std::vector<Value>{make_value(make_array(std::vector<int8_t>{-2}))});
  w.set_bool("b", true);
  w.add_tensor("x", GgmlType::Q8_0, {32, 2}, std::vector<std::byte>(68, std::byte{7}));
  w.add_tensor("y", GgmlType::F16, {3}, std::vector<std::byte>(6, std::byte{9}));

  using namespace test;
  RawBuilder b;
  b.chars("GGUF").u32(3).u64(2).u64(5);
  b.str("general.alignment").u32(kU32).u32(64);
  b.str("general.architecture").u32(kString).str("llama");
  b.str("tokenizer.ggml.tokens").u32(kArray).u32(kString).u64(2).str("<s>").str("ab");
  b.str("n").u32(kArray).u32(kArray).u64(1).u32(kI8).u64(1).u8(0xfe);
  b.str("b").u32(kBool).u8(1);
  b.str("x").u32(2).u64(32).u64(2).u32(8).u64(0);
  b.str("y").u32(1).u64(3).u32(1).u64(128);  // 68 bytes of x, padded to 128
  b.pad_to(64);
  b.bytes.insert(b.bytes.end(), 68, std::byte{7});
  b.pad_to(64);
  b.bytes.insert(b.bytes.end(), 6, std::byte{9});
  b.pad_to(64);
  EXPECT_TRUE(w.to_bytes() == b.bytes);
}

TEST(GgufWriter, AlignmentSetAfterTensorsRelaysThemOut) {
  GgufWriter w;
  w.add_tensor("a", GgmlType::F32, {3}, std::vector<std::byte>(12));
  w.add_tensor("b", GgmlType::F32, {3}, std::vector<std::byte>(12));
  EXPECT_EQ(w.tensors()[1].offset, 32u);
  w.set_alignment(16);
  EXPECT_EQ(w.tensors()[1].offset, 16u);
  const GgufFile f = GgufFile::open_memory(w.to_bytes(), "relaid");
  EXPECT_EQ(f.alignment(), 16u);
  EXPECT_EQ(f.tensors()[1].offset, 16u);
}

TEST(GgufWriter, MetadataOnlyAndEmptyFilesOpen) {
  GgufWriter empty;
  const auto bytes = empty.to_bytes();
  EXPECT_EQ(bytes.size(), 32u);  // 24-byte header padded to 32
  const GgufFile f = GgufFile::open_memory(bytes, "empty");
  EXPECT_TRUE(f.metadata().empty());
  EXPECT_TRUE(f.tensors().empty());
  EXPECT_EQ(f.data_offset(), 32u);
  // Without the padding (as vocabulary-only files are written) it opens too.
  const GgufFile g = GgufFile::open_memory(std::span(bytes).first(24), "unpadded");
  EXPECT_TRUE(g.tensors().empty());
}

TEST(GgufWriter, RejectsInvalidInput) {
  GgufWriter w;
  w.add_tensor("a", GgmlType::F32, {4}, std::vector<std::byte>(16));
  EXPECT_THROW(w.add_tensor("a", GgmlType::F32, {4}, std::vector<std::byte>(16)), Error);
  EXPECT_THROW(w.add_tensor("b", GgmlType::F32, {4}, std::vector<std::byte>(15)), Error);
  EXPECT_THROW(w.add_tensor("c", GgmlType::Q8_0, {33}, std::vector<std::byte>(34)), Error);
  EXPECT_THROW(w.add_tensor("d", GgmlType::F32, {0}, std::vector<std::byte>()), Error);
  EXPECT_THROW(w.add_tensor("e", GgmlType::F32, {1, 1, 1, 1, 1}, std::vector<std::byte>(4)), Error);
  EXPECT_THROW(w.add_tensor("", GgmlType::F32, {1}, std::vector<std::byte>(4)), Error);
  EXPECT_THROW(w.set_alignment(0), Error);
  EXPECT_THROW(w.set_alignment(48), Error);
  EXPECT_THROW(w.set_u32("general.alignment", 3), Error);
  EXPECT_THROW(w.set_version(1), Error);
  EXPECT_THROW(w.set("", make_value(1)), Error);
  ArrayValue lying = make_array(std::vector<int32_t>{1});
  lying.element_type = ValueType::Float32;
  w.set_array("lying", lying);
  EXPECT_THROW(w.to_bytes(), Error);
}

TEST(GgufWriter, WriteFailureNamesThePath) {
  GgufWriter w;
  const std::string path = "/nonexistent-dir/out.gguf";
  try {
    w.write(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent-dir/out.gguf"));
  }
}

TEST(GgufFile, TypedLookupsCheckTypes) {
  GgufWriter w;
  w.set_u64("big", std::numeric_limits<uint64_t>::max());
  w.set_u64("small", 7);
  w.set_string("s", "text");
  w.set_f32("f", 2.5f);
  w.set_i32("neg", -3);
  w.set_bool("b", false);
  const GgufFile f = GgufFile::open_memory(w.to_bytes(), "typed.gguf");
  EXPECT_EQ(f.get_int("missing"), std::nullopt);
  EXPECT_EQ(f.get_array("missing"), nullptr);
  EXPECT_FALSE(f.has("missing"));
  EXPECT_EQ(f.get_int("small"), 7);
  EXPECT_EQ(f.get_int("neg"), -3);
  EXPECT_EQ(f.get_float("neg"), -3.0);
  EXPECT_EQ(f.get_float("f"), 2.5);
  EXPECT_EQ(f.get_float("big"), 18446744073709551615.0);
  EXPECT_EQ(f.get_bool("b"), false);
  for (auto lookup : std::vector<std::function<void()>>{
           [&] { (void)f.get_int("big"); },
           [&] { (void)f.get_int("s"); },
           [&] { (void)f.get_int("f"); },
           [&] { (void)f.get_float("s"); },
           [&] { (void)f.get_string("f"); },
           [&] { (void)f.get_bool("small"); },
           [&] { (void)f.get_array("small"); },
       }) {
    try {
      lookup();
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("typed.gguf: metadata key '"));
    }
  }
  EXPECT_THROW(f.find("f")->as_int(), Error);
  EXPECT_THROW(f.find("s")->as_double(), Error);
  EXPECT_THROW(f.find("b")->as_string(), Error);
  EXPECT_THROW(f.find("s")->as_array(), Error);
  EXPECT_THROW(f.find("s")->as_bool(), Error);
  EXPECT_EQ(value_type_name(ValueType::Float64), "float64");
}

TEST(GgufFile, SliceBytesAreTheStridesOfTheLayout) {
  // Three experts of [64 x 3] Q8_0: expert e starts e * slice_bytes(2) into the tensor.
  GgufWriter w;
  std::vector<std::byte> data;
  for (int e = 0; e < 4; ++e) data.insert(data.end(), 3 * 2 * 34, static_cast<std::byte>(e));
  w.add_tensor("exps", GgmlType::Q8_0, {64, 3, 4}, data);
  w.add_tensor("f", GgmlType::F32, {5, 2}, std::vector<std::byte>(40));
  const GgufFile f = GgufFile::open_memory(w.to_bytes(), "slices");
  const TensorInfo& exps = *f.find_tensor("exps");
  EXPECT_EQ(exps.slice_bytes(1), 68u);
  EXPECT_EQ(exps.slice_bytes(2), 204u);
  EXPECT_EQ(exps.slice_bytes(3), exps.n_bytes);
  EXPECT_THROW(exps.slice_bytes(0), Error);
  EXPECT_EQ(exps.dim(2), 4);
  EXPECT_EQ(exps.dim(3), 1);
  const auto bytes = f.tensor_data(exps);
  for (int e = 0; e < 4; ++e) EXPECT_EQ(bytes[e * exps.slice_bytes(2)], static_cast<std::byte>(e));
  EXPECT_EQ(f.find_tensor("f")->slice_bytes(0), 4u);
  EXPECT_EQ(f.find_tensor("f")->slice_bytes(1), 20u);
  EXPECT_EQ(f.find_tensor("nope"), nullptr);
}

TEST(GgufFile, MovedFilesKeepTheirData) {
  GgufWriter w;
  w.add_tensor("t", GgmlType::F32, {2}, std::vector<std::byte>(8, std::byte{5}));
  test::TempDir dir("gguf-move");
  w.write(dir / "m.gguf");
  for (bool memory : {false, true}) {
    GgufFile a = memory ? GgufFile::open_memory(w.to_bytes(), "m") : GgufFile::open(dir / "m.gguf");
    GgufFile b = std::move(a);
    GgufFile c = GgufFile::open_memory(GgufWriter().to_bytes(), "other");
    c = std::move(b);
    EXPECT_EQ(c.tensor_data(c.tensors()[0])[7], std::byte{5});
    EXPECT_EQ(c.fd() >= 0, !memory);
  }
}

TEST(GgufFile, TensorDataRejectsForeignInfos) {
  GgufWriter w;
  w.add_tensor("t", GgmlType::F32, {2}, std::vector<std::byte>(8));
  const GgufFile f = GgufFile::open_memory(w.to_bytes(), "small");
  TensorInfo foreign = f.tensors()[0];
  foreign.offset = 1 << 20;
  EXPECT_THROW(f.tensor_data(foreign), Error);
  foreign.offset = std::numeric_limits<uint64_t>::max() - 8;
  EXPECT_THROW(f.tensor_data(foreign), Error);
}

}  // namespace
}  // namespace moescope::gguf
