#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "engine/common/error.h"
#include "engine/offload/expert_pack.h"
#include "tests/engine/offload/offload_test_util.h"

namespace moescope::offload {
namespace {

using test::expected_image;
using test::layout_of;
using test::load_model;
using test::temp_dir;

std::vector<char> read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::filesystem::path& p, const std::vector<char>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// Opens the pack and reads every expert; returns the first error, or "" if all matched the
// model exactly. Any other outcome (a wrong expert that decodes fine) fails the test.
std::string open_and_read_all(const ExpertLayout& layout, const std::filesystem::path& pack) {
  try {
    PackExpertSource source(layout, ExpertPack::open(pack, layout));
    std::vector<std::byte> buf(layout.max_packed_bytes());
    for (int32_t m = 0; m < layout.n_layers(); ++m) {
      for (int32_t e = 0; e < layout.n_expert(MoeLayerId(m)); ++e) {
        const uint64_t n = layout.packed_bytes(MoeLayerId(m));
        source.read(MoeLayerId(m), e, {buf.data(), n});
        const auto want = expected_image(layout, m, e);
        EXPECT_EQ(std::memcmp(buf.data(), want.data(), n), 0) << "layer " << m << " expert " << e;
      }
    }
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

class PackRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(PackRoundTrip, EveryExpertDecompressesToItsExactBytes) {
  auto model = load_model(GetParam());
  const ExpertLayout layout = layout_of(*model);
  const auto pack = temp_dir() / (GetParam() + ".mxp");
  int64_t progress_calls = 0;
  PackOptions options;
  options.progress = [&](int64_t done, int64_t total) {
    ++progress_calls;
    EXPECT_LE(done, total);
  };
  const PackSummary summary = write_expert_pack(layout, pack, options);
  EXPECT_EQ(summary.n_experts, layout.total_experts());
  EXPECT_EQ(progress_calls, layout.total_experts());
  EXPECT_EQ(summary.raw_bytes, layout.total_bytes());
  EXPECT_EQ(summary.file_bytes, std::filesystem::file_size(pack));
  EXPECT_FALSE(std::filesystem::exists(pack.string() + ".tmp"));
  EXPECT_EQ(open_and_read_all(layout, pack), "");
  EXPECT_NO_THROW(verify_expert_pack(layout, pack));
}

INSTANTIATE_TEST_SUITE_P(Models, PackRoundTrip,
                         ::testing::Values("llama-moe-q8_0", "deepseek2-lite-f32", "gpt-oss-mxfp4"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

class CorruptPack : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = load_model("llama-moe-q8_0").release();
    layout_ = new ExpertLayout(layout_of(*model_));
    good_ = temp_dir() / "good.mxp";
    write_expert_pack(*layout_, good_);
    bytes_ = read_all(good_);
  }
  static void TearDownTestSuite() {
    delete layout_;
    delete model_;
  }
  // Writes a modified copy and returns the error of using it.
  std::string error_of(const std::vector<char>& bytes) {
    const auto p = temp_dir() / "bad.mxp";
    write_all(p, bytes);
    return open_and_read_all(*layout_, p);
  }
  template <typename T>
  static void put(std::vector<char>& b, size_t at, T v) {
    std::memcpy(b.data() + at, &v, sizeof(T));
  }
  template <typename T>
  static T get(const std::vector<char>& b, size_t at) {
    T v;
    std::memcpy(&v, b.data() + at, sizeof(T));
    return v;
  }

  static inline Model* model_ = nullptr;
  static inline ExpertLayout* layout_ = nullptr;
  static inline std::filesystem::path good_;
  static inline std::vector<char> bytes_;
};

TEST_F(CorruptPack, GoodPackReadsBack) {
  EXPECT_EQ(error_of(bytes_), "");
}

TEST_F(CorruptPack, HeaderProblemsAreNamed) {
  EXPECT_NE(error_of({}).find("not an expert pack"), std::string::npos);
  auto b = bytes_;
  b[0] = 'X';
  EXPECT_NE(error_of(b).find("bad magic"), std::string::npos);
  b = bytes_;
  put<uint32_t>(b, 8, 7);
  EXPECT_NE(error_of(b).find("version 7"), std::string::npos);
  b = bytes_;
  b.resize(b.size() - 100);
  EXPECT_NE(error_of(b).find("truncated"), std::string::npos);
  b = bytes_;
  b.push_back(0);
  EXPECT_NE(error_of(b).find("trailing"), std::string::npos);
  b = bytes_;
  put<uint64_t>(b, 24, get<uint64_t>(b, 16) + 5);  // index offset beyond the file
  EXPECT_NE(error_of(b).find("out of range"), std::string::npos);
  b = bytes_;
  put<uint64_t>(b, 40, uint64_t{1} << 40);  // absurd index size
  EXPECT_NE(error_of(b).find("out of range"), std::string::npos);
}

TEST_F(CorruptPack, DamagedIndexIsRefused) {
  auto b = bytes_;
  const auto index_offset = get<uint64_t>(b, 24);
  const auto index_stored = get<uint64_t>(b, 32);
  b[index_offset + index_stored / 2] ^= 0x5a;
  const std::string error = error_of(b);
  EXPECT_NE(error.find("index"), std::string::npos) << error;
}

TEST_F(CorruptPack, DamagedFrameFailsTheLoadOfThatExpert) {
  auto b = bytes_;
  b[64 + 200] ^= 0x01;  // inside the first expert's frame
  const std::string error = error_of(b);
  EXPECT_NE(error.find("expert 0 of block 0"), std::string::npos) << error;
}

TEST_F(CorruptPack, PackOfAnotherModelIsRefused) {
  auto other = load_model("llama-moe-f32");
  const ExpertLayout other_layout = layout_of(*other);
  const auto p = temp_dir() / "other.mxp";
  write_expert_pack(other_layout, p);
  const std::string error = open_and_read_all(*layout_, p);
  EXPECT_NE(error.find("another model file"), std::string::npos) << error;
}

TEST_F(CorruptPack, PackOfAChangedModelIsRefused) {
  // The same file size and layout, one expert byte changed (a re-quantized or edited model): the
  // pack's experts are no longer the model's.
  const auto copy = temp_dir() / "changed.gguf";
  std::filesystem::copy_file(model_->file().path(), copy,
                             std::filesystem::copy_options::overwrite_existing);
  const auto pack = temp_dir() / "changed.mxp";
  {
    ModelOptions options;
    options.n_threads = 1;
    const auto model = Model::load(copy, options);
    write_expert_pack(layout_of(*model), pack);
  }
  {
    std::vector<char> bytes = read_all(copy);
    bytes[layout_->slice_file_offset(MoeLayerId(1), ExpertPart::Gate, 3) + 5] ^= 0x10;
    write_all(copy, bytes);
  }
  ModelOptions options;
  options.n_threads = 1;
  const auto changed = Model::load(copy, options);
  const std::string error = open_and_read_all(layout_of(*changed), pack);
  EXPECT_NE(error.find("expert bytes of"), std::string::npos) << error;
  EXPECT_NE(error.find("run moescope pack again"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST_F(CorruptPack, RandomByteFlipsNeverYieldWrongExperts) {
  // Every flip either leaves the pack usable with exact experts (header padding) or gives an
  // Error; open_and_read_all fails the test on a wrong expert.
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<size_t> pos(0, bytes_.size() - 1);
  for (int i = 0; i < 150; ++i) {
    auto b = bytes_;
    const size_t at = i < 64 ? size_t(i) : pos(rng);
    b[at] = char(b[at] ^ (1 << (rng() % 8)));
    error_of(b);
  }
}

TEST_F(CorruptPack, MissingFileIsNamed) {
  EXPECT_THROW(
      {
        try {
          ExpertPack::open(temp_dir() / "missing.mxp", *layout_);
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("missing.mxp"), std::string::npos);
          throw;
        }
      },
      Error);
}

}  // namespace
}  // namespace moescope::offload

namespace moescope::offload {
namespace {

TEST(PackIndex, MismatchNamesTheDifferingTensor) {
  auto a = test::load_model("llama-moe-q8_0");
  auto b = test::load_model("llama-moe-f32");
  const auto ra = test::layout_of(*a).records();
  const auto rb = test::layout_of(*b).records();
  EXPECT_EQ(describe_layout_mismatch(ra, ra), "");
  const std::string why = describe_layout_mismatch(ra, rb);
  EXPECT_TRUE(why.find("differs") != std::string::npos ||
              why.find("other expert tensors") != std::string::npos)
      << why;
  // Encoding round-trips, and a cut index is reported, not read past its end.
  PackIndex index{123, {}, ra, std::vector<PackFrame>(size_t(test::layout_of(*a).total_experts()))};
  const auto bytes = encode_pack_index(index);
  const PackIndex back = decode_pack_index(bytes, "x");
  EXPECT_EQ(back.model_file_bytes, 123u);
  EXPECT_EQ(back.layers, ra);
  for (size_t cut = 0; cut < bytes.size(); cut += 7) {
    EXPECT_THROW(decode_pack_index(std::span(bytes).first(cut), "x"), Error);
  }
}

}  // namespace
}  // namespace moescope::offload
