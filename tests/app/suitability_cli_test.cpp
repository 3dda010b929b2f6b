// The offloading suitability as the CLI and the report show it equals the engine's
// offloading_suitability on the same trace: `routing-stats --json` on a reference model (the trace
// rebuilt independently from llama.cpp's recorded routing of the same tokens), and the
// "Offloading suitability" section of `moescope report` on a recorded run of the default model.
#define QT_NO_KEYWORDS
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "engine/policy/suitability.h"
#include "storage/report/report_model.h"
#include "storage/trace_reader.h"
#include "tests/app/cli_runner.h"
#include "tests/engine/policy/paper_reference.h"

namespace moescope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_moescope;

std::string slurp(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

double number(const json& j) {
  return j.is_null() ? std::nan("") : j.get<double>();
}

void expect_same(double a, double b, const std::string& what) {
  if (std::isnan(a) || std::isnan(b)) {
    EXPECT_TRUE(std::isnan(a) && std::isnan(b)) << what;
  } else {
    EXPECT_EQ(a, b) << what;  // the JSON carries the exact double, never a rounded one
  }
}

void expect_layers(const json& j, const std::vector<double>& per_layer, const std::string& what) {
  ASSERT_EQ(j.size(), per_layer.size()) << what;
  for (size_t l = 0; l < per_layer.size(); ++l) {
    expect_same(number(j[l]), per_layer[l], what + fmt::format(" layer {}", l));
  }
}

TEST(PolicySuitabilityCli, RoutingStatsJsonEqualsTheEngineOnLlamaCppsRouting) {
  const std::string ref = MOESCOPE_SHARED_DIR "/reference";
  // llama.cpp's prompt: one chunk of --ctx 64 routes exactly its tokens.
  const fs::path text_file =
      fs::temp_directory_path() / ("moescope-suit-prompt-" + std::to_string(getpid()) + ".txt");
  {
    std::ifstream t(ref + "/logits/llama-moe-f32/tokens.json");
    std::ofstream(text_file) << json::parse(t)["prompt"].get<std::string>();
  }
  const std::string text = text_file.string();
  const auto r = run_moescope({"routing-stats", "--model", ref + "/models/llama-moe-f32.gguf",
                               "--file", text, "--ctx", "64", "--json", "--threads", "2", "--link",
                               "sata-ssd", "--layer-compute", "150us"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json out = json::parse(r.out);
  const json& s = out["suitability"];

  // The same tokens' routing as llama.cpp recorded it, with the shape the command reports.
  std::ifstream f(ref + "/logits/llama-moe-f32/routing.json");
  const json routing = json::parse(f);
  const size_t n_layers = routing["moe_layers"].size();
  const int n_tokens = routing["n_tokens"].get<int>();
  ASSERT_EQ(out["n_tokens"].get<int>(), n_tokens);
  policy::MoeShape shape;
  for (size_t m = 0; m < n_layers; ++m) {
    shape.n_experts.push_back(out["layers"][m]["n_expert"].get<int32_t>());
    const int layer = routing["moe_layers"][m].get<int>();
    shape.top_k.push_back(int32_t(routing["topk"][std::to_string(layer)][0].size()));
    shape.expert_bytes.push_back(s["break_even"]["expert_bytes"][m].get<uint64_t>());
    shape.model_layer.push_back(layer);
  }
  shape.validate();
  policy::RoutingTraceBuilder b(shape, false);
  for (int t = 0; t < n_tokens; ++t) {
    b.begin_token(policy::Phase::kPrefill);
    for (size_t m = 0; m < n_layers; ++m) {
      std::vector<ExpertId> e;
      for (const json& x :
           routing["topk"][std::to_string(routing["moe_layers"][m].get<int>())][t]) {
        e.push_back(ExpertId(x.get<int32_t>()));
      }
      b.add_layer(e, std::vector<float>(e.size(), 1.0f / float(e.size())));
    }
  }
  const policy::RoutingTrace trace = b.finish();
  policy::SuitabilityOptions options;
  options.link = policy::LinkModel::preset("sata-ssd");
  options.layer_compute_ns.assign(n_layers, 150'000);
  const policy::Suitability expected = policy::offloading_suitability(trace, options);

  EXPECT_EQ(s["tokens"].get<int64_t>(), expected.tokens);
  EXPECT_DOUBLE_EQ(s["srp_floor"].get<double>(), expected.uniform_srp);
  ASSERT_EQ(s["srp"].size(), expected.windows.size());
  std::vector<int> all_layers;
  for (size_t l = 0; l < n_layers; ++l) all_layers.push_back(int(l));
  for (size_t i = 0; i < expected.windows.size(); ++i) {
    const json& j = s["srp"][i];
    const int m = expected.windows[i];
    EXPECT_EQ(j["m"].get<int>(), m);
    expect_same(number(j["model"]), expected.srp[i].model, "SRP model");
    expect_layers(j["per_layer"], expected.srp[i].per_layer, "SRP");
    // The paper's definition computed from scratch on llama.cpp's routing, to the last bit the
    // JSON carries (doubles are printed in shortest round-trip form, never rounded).
    EXPECT_NEAR(number(j["model"]), policy::testing::reference_srp(trace, m, all_layers), 1e-12);
    for (int l : all_layers) {
      EXPECT_NEAR(number(j["per_layer"][size_t(l)]),
                  policy::testing::reference_srp(trace, m, {l}), 1e-12);
    }
    expect_same(number(s["window_coverage"][i]["mean_of_layers"]),
                expected.coverage[i].mean_of_layers, "coverage");
  }
  ASSERT_EQ(s["capacities"].size(), 2u);
  for (size_t c = 0; c < 2; ++c) {
    const json& j = s["capacities"][c];
    const policy::CapacityPoint& p = expected.capacities[c];
    EXPECT_EQ(j["multiple_of_k"].get<int>(), p.multiple);
    EXPECT_EQ(j["slots"].get<std::vector<int32_t>>(), p.slots);
    EXPECT_EQ(j["total_slots"].get<int64_t>(), p.total_slots);
    expect_same(number(j["lru"]), p.lru, "LRU");
    expect_same(number(j["opt"]), p.opt, "OPT");
    expect_same(number(j["lru_global"]), p.lru_global, "LRU global");
    expect_same(number(j["opt_global"]), p.opt_global, "OPT global");
    EXPECT_FALSE(j.contains("belady"));
    for (size_t i = 0; i < expected.windows.size(); ++i) {
      const json& h = j["sch"][i];
      const int m = expected.windows[i];
      EXPECT_EQ(h["m"].get<int>(), m);
      expect_same(number(h["model"]), p.sch[i].model, "SCH model");
      expect_same(number(h["per_layer_caches"]), p.sch[i].per_layer_caches, "SCH per layer");
      expect_layers(h["per_layer"], p.sch[i].per_layer, "SCH");
      EXPECT_NEAR(number(h["model"]),
                  policy::testing::reference_sch(trace, m, {int(p.total_slots)}, true), 1e-12);
      EXPECT_NEAR(number(h["per_layer_caches"]),
                  policy::testing::reference_sch(trace, m, p.slots, false), 1e-12);
      EXPECT_GE(number(j["opt_global"]), number(h["model"]));
      EXPECT_GE(number(j["opt"]), number(h["per_layer_caches"]));
    }
  }
  const json& be = s["break_even"];
  EXPECT_EQ(be["link"].get<std::string>(), "sata-ssd");
  EXPECT_DOUBLE_EQ(be["hit_rate"].get<double>(), expected.break_even.hit_rate);
  EXPECT_EQ(be["transfer_ns"].get<std::vector<int64_t>>(), expected.break_even.transfer_ns);
  EXPECT_EQ(be["compute_origin"].get<std::string>(), "given");
  EXPECT_EQ(s["verdict"].get<std::string>(), policy::verdict_name(expected.verdict));
  EXPECT_EQ(s["verdict_text"].get<std::string>(), expected.verdict_text);
  EXPECT_EQ(s["reasons"].size(), expected.reasons.size());

  // The text output carries the same verdict; a bad link is one line with exit 1.
  const auto printed = run_moescope({"routing-stats", "--model", ref + "/models/llama-moe-f32.gguf",
                                     "--file", text, "--ctx", "64", "--threads", "2", "--link",
                                     "sata-ssd", "--layer-compute", "150us"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_NE(printed.out.find("verdict: " + expected.verdict_text), std::string::npos);
  const auto bad = run_moescope({"routing-stats", "--model", ref + "/models/llama-moe-f32.gguf",
                                 "--file", text, "--link", "floppy"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("floppy"), std::string::npos);
  fs::remove(text_file);
}

TEST(SuitabilityReport, SectionEqualsTheEngineOnTheRecordedRun) {
  const fs::path dir =
      fs::temp_directory_path() / ("moescope-suit-test-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path trace = dir / "run.sqlite";
  test::record_default_model(trace.string(),
                             {"--prompt", "It is a truth universally acknowledged", "-n", "40",
                              "--expert-slots", "24", "--policy", "lru", "--link", "nvme"});
  const fs::path html_path = dir / "report.html";
  const auto r =
      run_moescope({"report", "--trace", trace.string(), "--out", html_path.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = slurp(html_path);

  storage::TraceReader reader(trace);
  const int64_t run = reader.latest_run();
  const storage::report::SuitabilityInputs in = storage::report::suitability_inputs(reader, run);
  EXPECT_EQ(in.options.link.name, "nvme");
  const policy::Suitability expected = policy::offloading_suitability(in.trace, in.options);

  EXPECT_NE(html.find("<section id=\"suitability\">"), std::string::npos);
  EXPECT_NE(html.find(fmt::format("data-verdict=\"{}\"", policy::verdict_name(expected.verdict))),
            std::string::npos);
  const std::regex row_re(
      "<tr class=\"srp-row\" data-m=\"(\\d+)\"><td>\\d+</td><td align=\"right\">([^<]*)</td>"
      "<td align=\"right\">([^<]*)</td><td align=\"right\">([^<]*)</td></tr>");
  size_t rows = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), row_re);
       it != std::sregex_iterator(); ++it, ++rows) {
    const std::smatch& m = *it;
    ASSERT_LT(rows, expected.windows.size());
    EXPECT_EQ(std::stoi(m[1]), expected.windows[rows]);
    EXPECT_EQ(m[2].str(), fmt::format("{:.3f}", expected.srp[rows].model));
    EXPECT_EQ(m[3].str(), fmt::format("{:.1f} %", 100 * expected.capacities[0].sch[rows].model));
    EXPECT_EQ(m[4].str(), fmt::format("{:.1f} %", 100 * expected.capacities[1].sch[rows].model));
  }
  EXPECT_EQ(rows, expected.windows.size());
  EXPECT_NE(html.find(fmt::format("<span id=\"break-even\">{:.1f} %</span>",
                                  100 * expected.break_even.hit_rate)),
            std::string::npos);
  // The run measured its decode compute (offloading records it): not the placeholder.
  EXPECT_NE(expected.break_even.compute_origin, policy::ComputeOrigin::kAssumed);
  fs::remove_all(dir);
}

// The report of a run of the default model with next-gate prefetching: in each suitability
// table the bound row (OPT, demand MIN, at the same pool) is at least every row beside it, and
// the policy table, where the prefetching primary sits beside on-demand oracle shadows, calls
// nothing a bound.
TEST(SuitabilityReport, NoBoundBelowAPolicyBesideItWithNextGatePrefetch) {
  const fs::path dir =
      fs::temp_directory_path() / ("moescope-bound-test-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path trace = dir / "run.sqlite";
  test::record_default_model(trace.string(),
                             {"--prompt", "It is a truth universally acknowledged", "-n", "40",
                              "--expert-slots", "24", "--policy", "lru", "--prefetch",
                              "next-gate", "--compare", "opt,belady-bypass,fifo"});
  const fs::path html_path = dir / "report.html";
  const auto r =
      run_moescope({"report", "--trace", trace.string(), "--out", html_path.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = slurp(html_path);
  for (const char* id : {"suitability-table", "suitability-per-layer"}) {
    const size_t begin = html.find(fmt::format("id=\"{}\"", id));
    ASSERT_NE(begin, std::string::npos) << id;
    const std::string table = html.substr(begin, html.find("</table>", begin) - begin);
    // Rows of percentages, last two cells of each row (the k and 2k columns).
    const std::regex row_re("<tr([^>]*)>(.*?)</tr>");
    const std::regex cell_re("<td align=\"right\">([0-9.]+) %</td>");
    std::vector<std::vector<double>> rows;
    std::vector<double> bound;
    for (auto it = std::sregex_iterator(table.begin(), table.end(), row_re);
         it != std::sregex_iterator(); ++it) {
      const std::string cells = (*it)[2].str();
      std::vector<double> v;
      for (auto c = std::sregex_iterator(cells.begin(), cells.end(), cell_re);
           c != std::sregex_iterator(); ++c)
        v.push_back(std::stod((*c)[1].str()));
      if (v.size() < 2) continue;
      v.erase(v.begin(), v.end() - 2);
      if ((*it)[1].str().find("bound-row") != std::string::npos)
        bound = v;
      else
        rows.push_back(v);
    }
    ASSERT_EQ(bound.size(), 2u) << id;
    ASSERT_GE(rows.size(), 2u) << id;
    for (const std::vector<double>& v : rows)
      for (size_t c = 0; c < 2; ++c) EXPECT_GE(bound[c], v[c]) << id << " column " << c;
  }
  const size_t policies = html.find("id=\"policy-table\"");
  ASSERT_NE(policies, std::string::npos);
  const std::string policy_table =
      html.substr(policies, html.find("</table>", policies) - policies);
  EXPECT_NE(policy_table.find("next-gate"), std::string::npos);
  EXPECT_NE(policy_table.find("belady-bypass"), std::string::npos);
  EXPECT_EQ(policy_table.find("bound"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace moescope
