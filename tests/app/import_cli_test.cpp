// `moescope import` as the real binary: an imported run works with runs, replay, report and
// export; a bad file exits 1 with one line and leaves an existing trace byte for byte as it was
// (and creates none); files written by tools/make_import_samples.py (Python's own pickle and
// zipfile, when python3 is installed) import entry by entry as the script says they should.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/trace_reader.h"
#include "tests/app/cli_runner.h"

namespace moescope::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("moescope-import-cli-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path p = dir / name;
  fs::remove(p);
  return p;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
}

// A small llama.cpp CSV: two decode calls of a 3-layer, top-2 routing.
const char* kCsv =
    "phase,token,layer,rank,expert\n"
    "prefill,0,0,0,1\nprefill,0,0,1,3\nprefill,1,0,0,2\nprefill,1,0,1,0\n"
    "prefill,0,1,0,4\nprefill,0,1,1,5\nprefill,1,1,0,5\nprefill,1,1,1,1\n"
    "decode,2,0,0,3\ndecode,2,0,1,1\ndecode,2,1,0,0\ndecode,2,1,1,4\n"
    "decode,3,0,0,3\ndecode,3,0,1,2\ndecode,3,1,0,4\ndecode,3,1,1,2\n";

TEST(ImportCli, AnImportedRunWorksWithEveryTraceCommand) {
  const fs::path csv = scratch("routing.csv"), trace = scratch("t.sqlite");
  write(csv, kCsv);
  CliResult r = run_moescope({"import", "--format", "llama-csv", "--in", csv.string(), "--trace",
                              trace.string(), "--json", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json out = json::parse(r.out);
  EXPECT_EQ(out["tokens"], 4);
  EXPECT_EQ(out["experts"], 6);
  r = run_moescope({"runs", "--trace", trace.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("imported"), std::string::npos);
  r = run_moescope({"replay", "--trace", trace.string(), "--policies", "lru,lfu", "--capacities",
                    "1,2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // LRU with 2 slots per layer over this routing: layer 0 sees {1,3,2,0} {3,1} {3,2}, layer 1
  // {4,5,1} {0,4} {4,2}; prefill step hits nothing, so count the accesses at least.
  EXPECT_NE(r.out.find("lru"), std::string::npos);
  r = run_moescope({"report", "--trace", trace.string(), "--out",
                    (trace.parent_path() / "r.html").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(slurp(trace.parent_path() / "r.html").find("Imported from"), std::string::npos);
  for (const char* format : {"csv", "json", "perfetto"}) {
    const fs::path out_path = scratch(std::string("export.") + format);
    r = run_moescope({"export", "--trace", trace.string(), "--format", format, "--out",
                      out_path.string()});
    EXPECT_EQ(r.exit_code, 0) << format << ": " << r.err;
  }
}

TEST(ImportCli, ABadFileLeavesTheTraceAsItWas) {
  const fs::path csv = scratch("ok.csv"), trace = scratch("keep.sqlite");
  write(csv, kCsv);
  ASSERT_EQ(run_moescope({"import", "--format", "llama-csv", "--in", csv.string(), "--trace",
                          trace.string(), "--quiet"})
                .exit_code,
            0);
  const std::string before = slurp(trace);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"routed-experts", "{\"meta_info\": {\"routed_experts\": \"AAAA"},
      {"llama-csv", "layer,expert\n0,1\n0,banana\n"},
      {"sglang-pt", std::string("PK\x03\x04 not really a zip", 24)},
  };
  for (const auto& [format, text] : bad) {
    SCOPED_TRACE(format);
    const fs::path in = scratch("bad." + format);
    write(in, text);
    CliResult r = run_moescope({"import", "--format", format, "--in", in.string(), "--trace",
                                trace.string(), "--layers", "1", "--topk", "1", "--quiet"});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(slurp(trace), before);
    const fs::path fresh = scratch("fresh-" + format + ".sqlite");
    r = run_moescope({"import", "--format", format, "--in", in.string(), "--trace",
                      fresh.string(), "--layers", "1", "--topk", "1", "--quiet"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_FALSE(fs::exists(fresh));
  }
  // Leftover temporaries: none beside the trace.
  for (const auto& e : fs::directory_iterator(trace.parent_path()))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  EXPECT_EQ(run_moescope({"import", "--format", "nope", "--in", csv.string(), "--trace",
                          trace.string()})
                .exit_code,
            2);
  EXPECT_EQ(run_moescope({"import", "--format", "llama-csv", "--trace", trace.string()}).exit_code,
            2);
}

// Files Python's pickle and zipfile wrote (the script's torch.save stand-in), checked against the
// routing the script says they hold.
TEST(ImportCli, FilesFromTheSampleScriptImportEntryByEntry) {
  if (std::system("python3 -c pass > /dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  const fs::path dir = scratch("samples");
  const std::string cmd = "python3 " MOESCOPE_SOURCE_DIR "/tools/make_import_samples.py " +
                          dir.string() + " --seed 4";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const fs::path trace = scratch("samples.sqlite");
  auto import = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"import", "--trace", trace.string(), "--json", "--quiet"});
    CliResult r = run_moescope(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out)["run"].get<int64_t>();
  };
  // SGLang per_token: physical ids mapped through the map; layer 0 dense.
  const int64_t pt = import({"--format", "sglang-pt", "--in", (dir / "sglang-per-token.pt").string()});
  // SGLang routed experts.
  const int64_t sg = import({"--format", "routed-experts", "--in",
                             (dir / "sglang-routed.jsonl").string(), "--layers", "4", "--topk", "2"});
  const int64_t vl = import({"--format", "routed-experts", "--in", (dir / "vllm-routed.jsonl").string()});
  const int64_t ll = import({"--format", "llama-csv", "--in", (dir / "llama-trace.csv").string()});
  const int64_t st = import({"--format", "sglang-pt", "--in", (dir / "sglang-stat.pt").string(),
                             "--topk", "2"});
  storage::TraceReader reader(trace);
  auto tokens_of = [&](int64_t run) {
    std::vector<std::vector<std::vector<int32_t>>> out;
    const int32_t L = reader.shape(run).n_layers();
    reader.scan_token_routing(run, [&](const storage::TokenRouting& t) {
      auto& tok = out.emplace_back();
      for (int32_t l = 0; l < L; ++l) {
        std::vector<int32_t> ids;
        for (ExpertId e : t.experts(l)) ids.push_back(e.value);
        tok.push_back(ids);
      }
    });
    return out;
  };
  auto drop = [](const json& tok, bool skip_dense_first) {
    std::vector<std::vector<int32_t>> out;
    for (size_t l = skip_dense_first ? 1 : 0; l < tok.size(); ++l) {
      std::vector<int32_t> ids;
      for (const json& e : tok[l])
        if (e.get<int32_t>() >= 0) ids.push_back(e.get<int32_t>());
      out.push_back(ids);
    }
    return out;
  };
  {
    const json want = json::parse(slurp(dir / "sglang-per-token.expected.json"));
    std::vector<std::vector<std::vector<int32_t>>> expected;
    for (const json& rec : want["records"])
      for (const json& tok : rec["tokens"]) expected.push_back(drop(tok, true));
    EXPECT_EQ(tokens_of(pt), expected);
    // Requests rebuilt from positions: [0,1,2] and [0,1], then decode 3 (request 0), 2 (1), ...
    EXPECT_EQ(reader.token_requests(pt), (std::vector<int32_t>{0, 0, 0, 1, 1, 0, 1, 0, 1}));
  }
  {
    const json want = json::parse(slurp(dir / "sglang-routed.expected.json"));
    std::vector<std::vector<std::vector<int32_t>>> expected;
    for (const json& q : want["requests"])
      for (const json& tok : q["routing"]) expected.push_back(drop(tok, true));
    EXPECT_EQ(tokens_of(sg), expected);
  }
  {
    const json want = json::parse(slurp(dir / "vllm-routed.expected.json"));
    std::vector<std::vector<std::vector<int32_t>>> expected;
    for (const json& q : want["requests"])
      for (const json& tok : q["routing"]) expected.push_back(drop(tok, false));
    EXPECT_EQ(tokens_of(vl), expected);
  }
  {
    const json want = json::parse(slurp(dir / "llama-trace.expected.json"));
    std::vector<std::vector<std::vector<int32_t>>> expected;
    for (const json& tok : want["tokens"]) expected.push_back(drop(tok, false));
    EXPECT_EQ(tokens_of(ll), expected);
  }
  {
    const json want = json::parse(slurp(dir / "sglang-stat.expected.json"));
    const auto steps = reader.step_expert_counts(st);
    ASSERT_EQ(steps.size(), want["logical_count"].size());
    for (size_t s = 0; s < steps.size(); ++s) {
      std::vector<int64_t> expected;
      const json& layers = want["logical_count"][s];
      for (size_t l = 1; l < layers.size(); ++l)
        for (const json& c : layers[l]) expected.push_back(c.get<int64_t>());
      EXPECT_EQ(steps[s].counts, expected) << "step " << s;
    }
  }
}

}  // namespace
}  // namespace moescope::test
