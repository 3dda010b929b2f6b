// Untrusted model files: any integer or float key set to a hostile value must give a clean
// moescope::Error at load, or a model that runs. Never a crash, hang or runaway allocation.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/common/error.h"
#include "tests/engine/model/model_builder.h"
#include "tests/engine/model/reference.h"

namespace moescope::test {
namespace {

TEST(HostileMetadata, EveryNumericKeyRejectsOrRuns) {
  int loaded = 0, rejected = 0;
  for (const std::string model : {"llama-moe-q8_0", "deepseek2-v3-f32", "gpt-oss-mxfp4",
                                  "qwen2moe-f32", "phimoe-f32", "granitemoe-f32"}) {
    const auto src = gguf::GgufFile::open(model_path(model));
    for (const auto& entry : src.metadata()) {
      const gguf::Value& v = entry.value;
      if (entry.key.rfind("tokenizer.", 0) == 0 || entry.key == "general.alignment") continue;
      std::vector<gguf::Value> hostile;
      if (v.is_integer()) {
        for (int64_t x : {int64_t{0}, int64_t{1}, int64_t{3}, int64_t{-1}, int64_t{1} << 40}) {
          hostile.push_back(gguf::make_value(x));
        }
      } else if (v.is_float()) {
        for (float x : {0.0f, -1.0f, std::numeric_limits<float>::quiet_NaN(),
                        std::numeric_limits<float>::infinity(), 1e30f}) {
          hostile.push_back(gguf::make_value(x));
        }
      } else {
        continue;
      }
      for (const gguf::Value& h : hostile) {
        SCOPED_TRACE(model + " " + entry.key);
        auto writer = copy_model(src);
        writer.set(entry.key, h);
        try {
          auto m = load_model(writer);
          auto state = m->new_state();
          std::vector<float> logits(m->n_vocab());
          const std::vector<int32_t> tokens = {1, 2, 3};
          m->forward(tokens, *state, logits, false);
          ++loaded;
        } catch (const Error&) {
          ++rejected;
        }
      }
    }
  }
  EXPECT_GT(rejected, 50);
  EXPECT_GT(loaded, 10);
}

}  // namespace
}  // namespace moescope::test
