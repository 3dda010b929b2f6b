// `moescope placement` on a recorded run of the default model: the JSON's numbers against an
// independent computation from the trace's routing, the exported files against the formats SGLang
// and llama.cpp read, and one-line errors with no file written on bad input.
#define QT_NO_KEYWORDS
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "storage/trace_reader.h"
#include "tests/app/cli_runner.h"

namespace moescope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_moescope;

std::string slurp(const fs::path& path) { return test::slurp(path.string()); }

class PlacementCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("moescope-placement-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    trace_ = dir_ / "run.sqlite";
    test::record_default_model(trace_.string(), {"--prompt", "Once upon a time there was", "-n", "96"});
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path dir_, trace_;
};
fs::path PlacementCli::dir_, PlacementCli::trace_;

TEST_F(PlacementCli, JsonMatchesAnIndependentContiguousSimulation) {
  const auto r = run_moescope({"placement", "--trace", trace_.string(), "--devices", "4",
                               "--fit-fraction", "0.5", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j.at("placements").size(), 4u);
  EXPECT_TRUE(j.at("held_out").get<bool>());
  const int64_t eval_begin = j.at("eval_tokens")[0], eval_end = j.at("eval_tokens")[1];
  EXPECT_EQ(int64_t(j.at("fit_tokens")[1]), eval_begin);
  // Contiguous: expert e on device e / (E / G); balancedness = mean / max of device loads.
  storage::TraceReader reader(trace_);
  const policy::RoutingTrace routing = reader.routing_trace(reader.latest_run());
  EXPECT_EQ(eval_end, routing.n_tokens());
  const json& contiguous = j.at("placements")[0];
  ASSERT_EQ(contiguous.at("algorithm"), "contiguous");
  double mean_balancedness = 0;
  for (int32_t l = 0; l < routing.n_layers(); ++l) {
    const int32_t per = routing.shape.n_experts[size_t(l)] / 4;
    std::vector<double> load(4, 0);
    for (int64_t t = eval_begin; t < eval_end; ++t)
      for (ExpertId e : routing.experts(TokenPos(int32_t(t)), MoeLayerId(l)))
        load[size_t(e.value / per)] += 1;
    const double max = *std::max_element(load.begin(), load.end());
    const double b = (load[0] + load[1] + load[2] + load[3]) / 4 / max;
    EXPECT_NEAR(contiguous.at("layers")[size_t(l)].at("balancedness").get<double>(), b, 1e-12);
    mean_balancedness += b / routing.n_layers();
  }
  EXPECT_NEAR(contiguous.at("balancedness").get<double>(), mean_balancedness, 1e-12);
  EXPECT_EQ(contiguous.at("inter_node_bytes").get<double>(), 0.0);  // one node
}

TEST_F(PlacementCli, AffinityKeepsAtLeastAsManyPairsInSample) {
  for (const char* g : {"4", "8"}) {
    const auto r = run_moescope({"placement", "--trace", trace_.string(), "--devices", g,
                                 "--fit-fraction", "1", "--algo", "contiguous,affinity", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_FALSE(j.at("held_out").get<bool>());
    EXPECT_GE(j.at("placements")[1].at("same_device_fraction").get<double>(),
              j.at("placements")[0].at("same_device_fraction").get<double>());
  }
  const auto text = run_moescope({"placement", "--trace", trace_.string(), "--devices", "4"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("held-out"), std::string::npos);
  for (const char* name : {"| contiguous |", "| eplb |", "| affinity |", "| joint |"})
    EXPECT_NE(text.out.find(name), std::string::npos) << name;
}

TEST_F(PlacementCli, ExportsFollowTheEngineFormats) {
  const fs::path lc = dir_ / "lc.json", map = dir_ / "map.json", plan = dir_ / "plan.json";
  const auto r = run_moescope({"placement", "--trace", trace_.string(), "--devices", "4",
                               "--redundant", "4", "--fit-fraction", "1", "--sglang-out",
                               lc.string(), "--map-out", map.string(), "--llama-plan-out",
                               plan.string(), "--gpu-budget", "6MiB"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  storage::TraceReader reader(trace_);
  const int64_t run = reader.latest_run();
  const policy::RoutingTrace routing = reader.routing_trace(run);
  const int32_t blocks = reader.run_info(run).model.n_model_layers;
  const json counts = json::parse(slurp(lc)).at("logical_count");
  ASSERT_EQ(counts.size(), size_t(blocks));
  for (int32_t l = 0; l < routing.n_layers(); ++l) {
    int64_t sum = 0;
    for (const auto& v : counts[size_t(routing.shape.model_layer[size_t(l)])]) sum += v.get<int64_t>();
    EXPECT_EQ(sum, routing.n_tokens() * routing.shape.top_k[size_t(l)]);
  }
  const json m = json::parse(slurp(map));
  ASSERT_EQ(m.size(), 1u);
  const json& p2l = m.at("physical_to_logical_map");
  ASSERT_EQ(p2l.size(), size_t(blocks));
  for (const auto& row : p2l) {
    ASSERT_EQ(row.size(), size_t(routing.shape.n_experts[0] + 4));
    std::vector<int> seen(size_t(routing.shape.n_experts[0]), 0);
    for (const auto& v : row) ++seen.at(size_t(v.get<int>()));
    for (int s : seen) EXPECT_GE(s, 1);
  }
  const json pl = json::parse(slurp(plan));
  EXPECT_LE(pl.at("n_cpu_moe_plan").at("gpu_expert_bytes").get<uint64_t>(), 6u << 20);
  EXPECT_LE(pl.at("override_tensor_plan").at("gpu_expert_bytes").get<uint64_t>(), 6u << 20);
  const double hit = pl.at("n_cpu_moe_plan").at("predicted_hit_rate");
  EXPECT_GT(hit, 0.0);
  EXPECT_LT(hit, 1.0);
}

TEST_F(PlacementCli, BadInputGetsOneLineAndNoFile) {
  const fs::path out = dir_ / "never.json";
  struct Case {
    std::vector<std::string> args;
    int code;
  };
  const std::string t = trace_.string();
  for (const Case& c : std::vector<Case>{
           {{"placement", "--trace", t}, 2},
           {{"placement", "--trace", t, "--devices", "0"}, 2},
           {{"placement", "--trace", t, "--devices", "4", "--nodes", "3"}, 2},
           {{"placement", "--trace", t, "--devices", "4", "--fit-fraction", "0"}, 2},
           {{"placement", "--trace", t, "--devices", "4", "--redundant", "100000"}, 2},
           {{"placement", "--trace", t, "--devices", "4", "--algo", "random"}, 2},
           {{"placement", "--trace", t, "--devices", "3"}, 1},
           {{"placement", "--trace", "/dev/zero", "--devices", "4"}, 1},
           {{"placement", "--trace", t, "--devices", "4", "--algo", "eplb", "--sglang-out",
             out.string(), "--map-out", (dir_ / "m.json").string(), "--map-algo", "affinity"}, 1},
       }) {
    const auto r = run_moescope(c.args);
    EXPECT_EQ(r.exit_code, c.code) << r.err;
    EXPECT_EQ(test::count_lines(r.err), 1) << r.err;
    EXPECT_FALSE(fs::exists(out));
  }
}

}  // namespace
}  // namespace moescope

namespace moescope {
namespace {

// The report's placement section shows the numbers `moescope placement` prints for the same run.
TEST_F(PlacementCli, ReportSectionMatchesTheCommand) {
  const fs::path html = dir_ / "report.html";
  const auto rep = run_moescope({"report", "--trace", trace_.string(), "--out", html.string()});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  const std::string text = slurp(html);
  ASSERT_NE(text.find("Expert-parallel placement"), std::string::npos);
  for (const char* g : {"4", "8"}) {
    const auto r = run_moescope({"placement", "--trace", trace_.string(), "--devices", g, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    const size_t table = text.find(std::string("placement-table\" data-devices=\"") + g + "\"");
    ASSERT_NE(table, std::string::npos) << g;
    for (const json& p : j.at("placements")) {
      const std::string algo = p.at("algorithm");
      const size_t row = text.find("data-algorithm=\"" + algo + "\"", table);
      ASSERT_NE(row, std::string::npos) << algo;
      // The first number cell of the row is the balancedness.
      const std::string open = "<td align=\"right\">";
      const size_t first = text.find(open, row) + open.size();
      const std::string shown = text.substr(first, text.find('<', first) - first);
      char expected[32];
      std::snprintf(expected, sizeof expected, "%.3f", p.at("balancedness").get<double>());
      EXPECT_EQ(shown, expected) << algo;
    }
  }
}

}  // namespace
}  // namespace moescope
