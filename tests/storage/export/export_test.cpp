// `moescope export`: the real binary on a recorded generation of the built-in model (offloading
// on: real stalls, cache events, shadow policies) and on a synthetic trace with hostile token
// text. Every check compares the exported file, parsed back, with what TraceReader returns.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <sstream>

#include "engine/model/generator.h"
#include "engine/model/model.h"
#include "engine/offload/expert_store.h"
#include "engine/policy/synthetic_trace.h"
#include "engine/tokenizer/tokenizer.h"
#include "storage/export/export.h"
#include "storage/export/perfetto_export.h"
#include "storage/run_info.h"
#include "storage/store_recording.h"
#include "storage/synthetic_recording.h"
#include "storage/trace_observer.h"
#include "storage/trace_reader.h"
#include "storage/trace_writer.h"
#include "tests/app/cli_runner.h"

namespace moescope::storage {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test::run_moescope;

const std::string kHostile = "a,b \"quoted\"\nsecond line\r\nthird,\"\"";

fs::path scratch_dir() {
  static const fs::path dir = [] {
    const fs::path d =
        fs::temp_directory_path() / ("moescope-export-test-" + std::to_string(getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

std::string slurp(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// RFC 4180, parsed independently of the writer: quoted fields may hold commas, doubled quotes
// and line breaks; records end with "\n" (or "\r\n").
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      if (c == '\r') ++i;
      row.push_back(std::move(field));
      field.clear();
      was_quoted = false;
      rows.push_back(std::move(row));
      row.clear();
    } else {
      field += c;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quoted field";
  if (!field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

// Column name -> index of a CSV header.
std::map<std::string, size_t> columns(const std::vector<std::string>& header) {
  std::map<std::string, size_t> out;
  for (size_t i = 0; i < header.size(); ++i) out[header[i]] = i;
  return out;
}

// A synthetic run played through the trace observer with an LRU cache simulated by the writer
// (cache events, outcomes) and a FIFO shadow; some tokens get hostile text.
int64_t write_synthetic(const fs::path& path, int64_t n_tokens, int64_t n_prefill) {
  policy::SyntheticSpec spec;
  spec.n_layers = 4;
  spec.n_experts = 8;
  spec.top_k = 2;
  spec.n_tokens = n_tokens;
  spec.n_prefill = n_prefill;
  spec.expert_bytes = 3 << 20;
  policy::RoutingTrace trace = policy::synthetic_trace(spec);
  // MoE layers in blocks 1.. (as if block 0 were dense), so that layer and block differ.
  for (int32_t l = 0; l < trace.n_layers(); ++l) trace.shape.model_layer[size_t(l)] = l + 1;
  TraceWriter writer(path);
  RunInfo info;
  info.label = "synthetic, \"hostile\"";
  info.model.path = "(synthetic)";
  info.model.architecture = "synthetic";
  info.model.quantization = "{}";
  info.model.n_model_layers = trace.n_layers() + 1;
  info.model.shape = trace.shape;
  info.settings_json = R"({"synthetic":true})";
  const int64_t run = writer.begin_run(info);
  PolicyDescription lru;
  lru.primary = true;
  lru.spec = "lru";
  lru.capacity = policy::CacheCapacity::uniform(trace.n_layers(), 3);
  writer.simulate_policy(lru, {}, true);
  PolicyDescription fifo;
  fifo.spec = "fifo";
  fifo.capacity = policy::CacheCapacity::uniform(trace.n_layers(), 2);
  writer.simulate_policy(fifo);
  play_routing_trace(writer, trace, 16);
  for (int32_t pos : {0, 5, int32_t(n_prefill) + 3}) writer.token(pos, -1, kHostile);
  writer.finish_run();
  return run;
}

// A generation of the built-in model with offloading (slow link: real stalls) and two shadows,
// prefill in chunks of 4 tokens, recorded by `moescope record`.
void record_default_model(const fs::path& path) {
  test::record_default_model(
      path.string(), {"--label", "default model", "--prompt", "The cat, said \"hello\", and\nthen",
                      "-n", "24", "--batch", "4", "--expert-slots", "24", "--policy", "lru",
                      "--prefetch", "same-prev", "--link", "nvme", "--compare", "fifo,lru-global"});
}

class ExportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    synthetic_ = new fs::path(scratch_dir() / "synthetic.sqlite");
    write_synthetic(*synthetic_, 150, 40);  // run 1
    write_synthetic(*synthetic_, 300, 70);  // run 2, the newest
    engine_ = new fs::path(scratch_dir() / "engine.sqlite");
    record_default_model(*engine_);
  }
  static void TearDownTestSuite() {
    delete synthetic_;
    delete engine_;
    fs::remove_all(scratch_dir());
  }

  // Runs the export and returns the file's text (the command must succeed).
  static std::string export_file(const fs::path& trace, const std::vector<std::string>& extra,
                                 const std::string& name) {
    const fs::path out = scratch_dir() / name;
    std::vector<std::string> args = {"export", "--trace", trace.string(), "--out", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const test::CliResult r = run_moescope(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    const bool quiet = std::find(extra.begin(), extra.end(), "--quiet") != extra.end();
    EXPECT_EQ(test::count_lines(r.out), quiet ? 0 : 1) << r.out;  // the summary line
    return slurp(out);
  }

  static fs::path* synthetic_;
  static fs::path* engine_;
};
fs::path* ExportTest::synthetic_ = nullptr;
fs::path* ExportTest::engine_ = nullptr;

// ---- csv --------------------------------------------------------------------------------------

void check_routing_csv(const fs::path& trace_path, int64_t run, const std::string& text) {
  TraceReader reader(trace_path);
  const auto rows = parse_csv(text);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0], (std::vector<std::string>{"run", "pos", "layer", "rank", "expert", "weight",
                                               "logit", "cache"}));
  RunSummary summary;
  for (const RunSummary& s : reader.runs()) {
    if (s.id == run) summary = s;
  }
  const policy::MoeShape shape = reader.shape(run);
  // Rows = forwarded tokens x MoE layers x k.
  ASSERT_EQ(rows.size() - 1,
            size_t(summary.n_forwarded) * size_t(shape.n_layers()) * size_t(shape.top_k[0]));
  const std::vector<RoutingEntry> want = reader.routing(run);
  ASSERT_EQ(rows.size() - 1, want.size());
  std::set<std::string> outcomes;
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& row = rows[i + 1];
    ASSERT_EQ(row.size(), 8u) << i;
    const RoutingEntry& e = want[i];
    EXPECT_EQ(std::stoll(row[0]), run);
    EXPECT_EQ(std::stoi(row[1]), e.pos) << i;
    EXPECT_EQ(std::stoi(row[2]), e.layer.value) << i;
    EXPECT_EQ(std::stoi(row[3]), e.rank) << i;
    EXPECT_EQ(std::stoi(row[4]), e.expert.value) << i;
    EXPECT_EQ(std::strtof(row[5].c_str(), nullptr), e.weight) << i;  // exact round trip
    EXPECT_EQ(std::strtof(row[6].c_str(), nullptr), e.logit) << i;
    EXPECT_EQ(row[7], access_outcome_name(e.cache)) << i;
    outcomes.insert(row[7]);
  }
  // The cache recorded something: hits and misses appear.
  EXPECT_TRUE(outcomes.count(std::string(access_outcome_name(AccessOutcome::kHit))));
  EXPECT_TRUE(outcomes.count(std::string(access_outcome_name(AccessOutcome::kMiss))));
}

TEST_F(ExportTest, CsvRoutingIsOneRowPerEntryEqualToTheReader) {
  check_routing_csv(*engine_, 1, export_file(*engine_, {"--format", "csv"}, "engine-routing.csv"));
  // The newest run by default, another with --run.
  check_routing_csv(*synthetic_, 2,
                    export_file(*synthetic_, {"--format", "csv", "--table", "routing"}, "s2.csv"));
  check_routing_csv(*synthetic_, 1,
                    export_file(*synthetic_, {"--format", "csv", "--run", "1"}, "s1.csv"));
}

TEST_F(ExportTest, CsvQuotingRoundTripsHostileTokenText) {
  const std::string text =
      export_file(*synthetic_, {"--format", "csv", "--table", "tokens", "--quiet"}, "tok.csv");
  TraceReader reader(*synthetic_);
  const std::vector<TokenRecord> tokens = reader.tokens(2);
  const auto rows = parse_csv(text);
  ASSERT_EQ(rows.size(), tokens.size() + 1);
  auto col = columns(rows[0]);
  ASSERT_TRUE(col.count("text") && col.count("pos") && col.count("phase"));
  int hostile = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto& row = rows[i + 1];
    ASSERT_EQ(row.size(), rows[0].size()) << i;
    EXPECT_EQ(std::stoi(row[col["pos"]]), tokens[i].pos);
    EXPECT_EQ(row[col["text"]], tokens[i].text) << i;
    EXPECT_EQ(row[col["phase"]], phase_name(tokens[i].phase));
    EXPECT_EQ(std::stoll(row[col["start_ns"]]), tokens[i].start_ns);
    EXPECT_EQ(std::stoll(row[col["stall_ns"]]), tokens[i].stall_ns);
    EXPECT_EQ(std::stoi(row[col["request"]]), tokens[i].request);
    EXPECT_EQ(row[col["step"]], tokens[i].step >= 0 ? std::to_string(tokens[i].step) : "");
    hostile += row[col["text"]].find(kHostile) != std::string::npos;
  }
  EXPECT_EQ(hostile, 3);
}

TEST_F(ExportTest, CsvTablesMatchTheReader) {
  TraceReader reader(*engine_);
  const int64_t run = 1;
  const int32_t L = reader.shape(run).n_layers();
  {  // layers: one row per forward call and layer, the same times
    const auto rows = parse_csv(export_file(*engine_, {"--format=csv", "--table=layers"}, "l.csv"));
    const std::vector<LayerTiming> want = reader.layer_timings(run);
    ASSERT_EQ(rows.size() - 1, want.size());
    EXPECT_EQ(want.size(), reader.forward_calls(run).size() * size_t(L));
    auto col = columns(rows[0]);
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(std::stoll(rows[i + 1][col["compute_ns"]]), want[i].compute_ns);
      EXPECT_EQ(std::stoll(rows[i + 1][col["stall_ns"]]), want[i].stall_ns);
      EXPECT_EQ(std::stoi(rows[i + 1][col["layer"]]), want[i].layer.value);
    }
  }
  {  // events: the reader's complete list
    const auto rows =
        parse_csv(export_file(*engine_, {"--format", "csv", "--table", "events"}, "e.csv"));
    const std::vector<CacheEvent> want = reader.cache_events(run);
    ASSERT_EQ(rows.size() - 1, want.size());
    ASSERT_GT(want.size(), 0u);
    auto col = columns(rows[0]);
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(rows[i + 1][col["kind"]], cache_event_kind_name(want[i].kind));
      EXPECT_EQ(std::stoi(rows[i + 1][col["expert"]]), want[i].expert.value);
      EXPECT_EQ(std::stoll(rows[i + 1][col["bytes"]]), want[i].bytes);
    }
  }
  const std::vector<PolicyDescription> policies = reader.policies(run);
  ASSERT_EQ(policies.size(), 3u);  // lru and two shadows
  {  // policy-tokens: every position of every policy; sums are the reports' totals
    const auto rows =
        parse_csv(export_file(*engine_, {"--format", "csv", "--table", "policy-tokens"}, "pt.csv"));
    auto col = columns(rows[0]);
    std::map<int, policy::CacheCounters> sums;
    for (size_t i = 1; i < rows.size(); ++i) {
      auto& s = sums[std::stoi(rows[i][col["policy"]])];
      s.hits += std::stoll(rows[i][col["hits"]]);
      s.misses += std::stoll(rows[i][col["misses"]]);
      s.stall_ns += std::stoll(rows[i][col["stall_ns"]]);
    }
    size_t expect_rows = 0;
    for (const PolicyDescription& p : policies) {
      const policy::CacheReport r = reader.policy_report(run, p.id);
      expect_rows += reader.tokens(run).size();  // every position, zeros included
      EXPECT_EQ(sums[p.id].hits, r.total().hits) << p.spec;
      EXPECT_EQ(sums[p.id].misses, r.total().misses) << p.spec;
      EXPECT_EQ(sums[p.id].stall_ns, r.total().stall_ns) << p.spec;
    }
    EXPECT_EQ(rows.size() - 1, expect_rows);
  }
  {  // policies: per phase a total row and one per layer
    const auto rows =
        parse_csv(export_file(*engine_, {"--format", "csv", "--table", "policies"}, "p.csv"));
    EXPECT_EQ(rows.size() - 1, policies.size() * 2 * size_t(1 + L));
    auto col = columns(rows[0]);
    for (size_t i = 1; i < rows.size(); ++i) {
      if (!rows[i][col["layer"]].empty()) continue;
      const policy::CacheReport r = reader.policy_report(run, std::stoi(rows[i][col["policy"]]));
      const size_t phase = rows[i][col["phase"]] == "prefill" ? 0 : 1;
      EXPECT_EQ(std::stoll(rows[i][col["accesses"]]), r.phase[phase].accesses);
      EXPECT_EQ(std::stoll(rows[i][col["prefetch_issued"]]), r.phase[phase].prefetch_issued);
    }
  }
}

// ---- json -------------------------------------------------------------------------------------

TEST_F(ExportTest, JsonHoldsTheWholeRun) {
  for (const fs::path* trace : {engine_, synthetic_}) {
    SCOPED_TRACE(trace->string());
    TraceReader reader(*trace);
    const int64_t run = reader.latest_run();
    const json doc = json::parse(export_file(*trace, {"--format", "json"}, "run.json"));
    const RunInfo info = reader.run_info(run);
    EXPECT_EQ(doc["run"]["id"], run);
    EXPECT_EQ(doc["run"]["label"], info.label);
    EXPECT_EQ(doc["run"]["model"]["architecture"], info.model.architecture);
    EXPECT_EQ(doc["run"]["settings"], json::parse(info.settings_json));
    EXPECT_EQ(doc["moe_layers"].size(), size_t(info.model.shape.n_layers()));

    const auto prompts = reader.prompts(run);
    ASSERT_EQ(doc["prompts"].size(), prompts.size());
    for (size_t i = 0; i < prompts.size(); ++i)
      EXPECT_EQ(doc["prompts"][i]["text"], prompts[i].text);

    const auto tokens = reader.tokens(run);
    const auto routing = reader.routing(run);
    ASSERT_EQ(doc["tokens"].size(), tokens.size());
    size_t entry = 0;
    for (size_t i = 0; i < tokens.size(); ++i) {
      const json& t = doc["tokens"][i];
      EXPECT_EQ(t["pos"], tokens[i].pos);
      EXPECT_EQ(t["text"], tokens[i].text);
      EXPECT_EQ(t["forwarded"], tokens[i].forwarded);
      if (!tokens[i].forwarded) {
        EXPECT_TRUE(t["routing"].is_null());
        continue;
      }
      const json& r = t["routing"];
      ASSERT_EQ(r["experts"].size(), size_t(info.model.shape.n_layers()));
      for (size_t l = 0; l < r["experts"].size(); ++l) {
        ASSERT_EQ(r["weights"][l].size(), r["experts"][l].size());
        for (size_t k = 0; k < r["experts"][l].size(); ++k, ++entry) {
          ASSERT_LT(entry, routing.size());
          EXPECT_EQ(routing[entry].pos, tokens[i].pos);
          EXPECT_EQ(routing[entry].layer.value, int32_t(l));
          EXPECT_EQ(r["experts"][l][k], routing[entry].expert.value);
          EXPECT_EQ(r["weights"][l][k].get<float>(), routing[entry].weight);
          EXPECT_EQ(r["logits"][l][k].get<float>(), routing[entry].logit);
          EXPECT_EQ(r["cache"][l][k], access_outcome_name(routing[entry].cache));
        }
      }
    }
    EXPECT_EQ(entry, routing.size());
    EXPECT_EQ(doc["layer_timings"].size(), reader.forward_calls(run).size());
    const std::vector<CacheEvent> events = reader.cache_events(run);
    ASSERT_EQ(doc["cache_events"].size(), events.size());
    EXPECT_EQ(doc["cache_event_fields"][1], "kind");
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(doc["cache_events"][i][0], events[i].pos);
      EXPECT_EQ(doc["cache_events"][i][1], cache_event_kind_name(events[i].kind));
      EXPECT_EQ(doc["cache_events"][i][3], events[i].expert.value);
    }

    const auto policies = reader.policies(run);
    ASSERT_EQ(doc["policies"].size(), policies.size());
    for (size_t p = 0; p < policies.size(); ++p) {
      const json& jp = doc["policies"][p];
      const policy::CacheReport r = reader.policy_report(run, policies[p].id);
      EXPECT_EQ(jp["spec"], policies[p].spec);
      EXPECT_EQ(jp["report"]["phase"]["decode"]["hits"], r.phase[1].hits);
      EXPECT_EQ(jp["report"]["phase"]["prefill"]["misses"], r.phase[0].misses);
      ASSERT_EQ(jp["token_counters"].size(), r.token.size());
      int64_t accesses = 0;
      for (const json& row : jp["token_counters"]) accesses += row[0].get<int64_t>();
      EXPECT_EQ(jp["token_counter_fields"][0], "accesses");
      EXPECT_EQ(accesses, r.total().accesses);
    }
  }
}

// ---- perfetto ---------------------------------------------------------------------------------

int64_t to_ns(const json& us) {
  return std::llround(us.get<double>() * 1000.0);
}

TEST_F(ExportTest, PerfettoTimelineAddsUpToTheLayerTimings) {
  for (const fs::path* trace : {engine_, synthetic_}) {
    SCOPED_TRACE(trace->string());
    TraceReader reader(*trace);
    const int64_t run = reader.latest_run();
    const policy::MoeShape shape = reader.shape(run);
    const int32_t L = shape.n_layers();
    const json doc = json::parse(export_file(*trace, {"--format", "perfetto"}, "run.trace.json"));
    ASSERT_TRUE(doc["traceEvents"].is_array());

    std::map<int64_t, std::string> thread_names;
    std::map<int64_t, std::map<std::string, int64_t>> slice_ns;  // tid -> name -> sum
    std::map<std::string, int64_t> last_ts;                      // track -> last ts
    std::map<std::string, std::vector<double>> counters;
    size_t token_slices = 0, missed_experts = 0;
    for (const json& e : doc["traceEvents"]) {
      for (const char* key : {"ph", "name", "pid", "tid"}) ASSERT_TRUE(e.contains(key)) << e;
      EXPECT_EQ(e["pid"], run);
      const std::string ph = e["ph"];
      if (ph == "M") {
        if (e["name"] == "thread_name") {
          EXPECT_FALSE(thread_names.count(e["tid"].get<int64_t>())) << "two names for one thread";
          thread_names[e["tid"].get<int64_t>()] = e["args"]["name"].get<std::string>();
        }
        continue;
      }
      ASSERT_TRUE(e.contains("ts") && e["ts"].is_number()) << e;
      const int64_t ts = to_ns(e["ts"]);
      const std::string track = ph == "C" ? "counter " + e["name"].get<std::string>()
                                          : std::to_string(e["tid"].get<int64_t>());
      if (last_ts.count(track)) {
        EXPECT_GE(ts, last_ts[track]) << e;
      }
      if (ph == "X") {
        ASSERT_TRUE(e.contains("dur") && e["dur"].is_number()) << e;
        const int64_t dur = to_ns(e["dur"]);
        EXPECT_GE(dur, 0);
        slice_ns[e["tid"].get<int64_t>()][e["name"].get<std::string>()] += dur;
        last_ts[track] = ts + dur;  // slices of a track do not overlap
        if (thread_names[e["tid"].get<int64_t>()] == "tokens") ++token_slices;
      } else if (ph == "C") {
        ASSERT_EQ(e["args"].size(), 1u);
        counters[e["name"].get<std::string>()].push_back(e["args"].begin()->get<double>());
        last_ts[track] = ts;
      } else {
        ASSERT_EQ(ph, "i");
        missed_experts += e["args"]["experts"].size();
        last_ts[track] = ts;  // at the start of the layer's slices
      }
    }

    // A thread per layer (named with its model block) and the tokens thread.
    ASSERT_EQ(thread_names.size(), size_t(L) + 1);
    std::map<int32_t, int64_t> tid_of_layer;
    for (const auto& [tid, name] : thread_names) {
      int layer = -1, block = -1;
      if (std::sscanf(name.c_str(), "layer %d (block %d)", &layer, &block) == 2) {
        ASSERT_TRUE(layer >= 0 && layer < L) << name;
        EXPECT_EQ(block, shape.model_layer[size_t(layer)]);
        tid_of_layer[layer] = tid;
      } else {
        EXPECT_EQ(name, "tokens");
      }
    }
    ASSERT_EQ(tid_of_layer.size(), size_t(L));
    EXPECT_EQ(token_slices, reader.forward_calls(run).size());

    // Compute and stall slices add up to the recorded layer timings, layer by layer.
    std::vector<int64_t> compute(static_cast<size_t>(L)), stall(static_cast<size_t>(L));
    for (const LayerTiming& t : reader.layer_timings(run)) {
      compute[size_t(t.layer.value)] += t.compute_ns;
      stall[size_t(t.layer.value)] += t.stall_ns;
    }
    for (int32_t l = 0; l < L; ++l) {
      EXPECT_EQ(slice_ns[tid_of_layer[l]]["compute"], compute[size_t(l)]) << l;
      EXPECT_EQ(slice_ns[tid_of_layer[l]]["stall"], stall[size_t(l)]) << l;
    }
    EXPECT_GT(std::accumulate(compute.begin(), compute.end(), int64_t(0)), 0);

    // Occupancy stays within the primary cache's budget, and fills it.
    const std::vector<PolicyDescription> policies = reader.policies(run);
    const PolicyDescription& primary = policies.at(0);
    ASSERT_TRUE(primary.primary);
    uint64_t budget = 0;
    if (primary.capacity.pool == policy::PoolKind::kPerLayer) {
      for (int32_t l = 0; l < L; ++l)
        budget += uint64_t(primary.capacity.layer_slots[size_t(l)]) * shape.expert_bytes[size_t(l)];
    } else {  // these models have experts of one size
      budget = primary.capacity.in_bytes ? primary.capacity.global
                                         : primary.capacity.global * shape.expert_bytes[0];
    }
    const auto& occupancy = counters["cache occupancy"];
    ASSERT_FALSE(occupancy.empty());
    for (double v : occupancy) {
      EXPECT_GE(v, 0);
      EXPECT_LE(v, double(budget));
    }
    EXPECT_GT(*std::max_element(occupancy.begin(), occupancy.end()), 0.5 * double(budget));

    // Hit rate: a share, ending at the primary policy's overall hit rate.
    const auto& rate = counters["hit rate (" + primary.spec + ")"];
    ASSERT_FALSE(rate.empty());
    for (double v : rate) EXPECT_TRUE(v >= 0 && v <= 1) << v;
    const policy::CacheCounters total = reader.policy_report(run, primary.id).total();
    EXPECT_NEAR(rate.back(), double(total.hits) / double(total.accesses), 1e-12);

    // Every demand miss is named by an instant event.
    size_t misses = 0;
    for (const CacheEvent& e : reader.cache_events(run)) {
      misses += e.kind == CacheEventKind::kMiss || e.kind == CacheEventKind::kBypass;
    }
    EXPECT_GT(misses, 0u);
    EXPECT_EQ(missed_experts, misses);
  }
}

// The output does not depend on how many positions the exporter reads at a time.
TEST_F(ExportTest, ChunkingDoesNotChangeTheOutput) {
  TraceReader reader(*engine_);
  for (const ExportFormat format :
       {ExportFormat::kCsv, ExportFormat::kJson, ExportFormat::kPerfetto}) {
    for (const CsvTable table : {CsvTable::kRouting, CsvTable::kEvents, CsvTable::kPolicyTokens}) {
      if (format != ExportFormat::kCsv && table != CsvTable::kRouting) continue;
      std::ostringstream whole, small;
      ExportOptions options;
      options.format = format;
      options.table = table;
      export_run(reader, 1, options, whole);
      options.chunk_tokens = 3;
      int64_t last = -1, calls = 0;
      options.progress = [&](int64_t done, int64_t total) {
        EXPECT_GE(done, last);
        EXPECT_LE(done, total);
        last = done;
        ++calls;
      };
      export_run(reader, 1, options, small);
      EXPECT_EQ(small.str(), whole.str()) << int(format) << " " << int(table);
      EXPECT_GT(calls, 2);
    }
  }
}

TEST_F(ExportTest, APositionRangeIsASliceOfTheWholeExport) {
  TraceReader reader(*engine_);
  const auto calls = reader.forward_calls(1);
  ASSERT_GT(calls.size(), 10u);
  // A range starting mid-decode: running values (occupancy, hit rate) must carry over.
  const int32_t from = calls[calls.size() / 2], to = calls[calls.size() / 2 + 5];
  const std::string from_s = std::to_string(from), to_s = std::to_string(to);

  const auto whole_csv = parse_csv(export_file(*engine_, {"--format", "csv"}, "all.csv"));
  const auto part_csv = parse_csv(
      export_file(*engine_, {"--format", "csv", "--from", from_s, "--to", to_s}, "part.csv"));
  std::vector<std::vector<std::string>> want = {whole_csv[0]};
  for (size_t i = 1; i < whole_csv.size(); ++i) {
    const int pos = std::stoi(whole_csv[i][1]);
    if (pos >= from && pos < to) want.push_back(whole_csv[i]);
  }
  EXPECT_GT(want.size(), 1u);
  EXPECT_EQ(part_csv, want);

  const json whole = json::parse(export_file(*engine_, {"--format", "perfetto"}, "all.json"));
  const json part = json::parse(
      export_file(*engine_, {"--format", "perfetto", "--from", from_s, "--to", to_s}, "part.json"));
  std::set<std::string> all_events;
  for (const json& e : whole["traceEvents"]) all_events.insert(e.dump());
  size_t slices = 0, counters = 0;
  for (const json& e : part["traceEvents"]) {
    EXPECT_TRUE(all_events.count(e.dump())) << "not in the whole export: " << e;
    if (e["ph"] == "X" && e["tid"] == 1) {
      ++slices;
      const int pos = e["args"]["pos"];
      EXPECT_TRUE(pos >= from && pos < to) << e;
    }
    if (e["ph"] == "C") ++counters;
  }
  EXPECT_EQ(slices, 5u);  // the five forward calls starting in the range
  EXPECT_GT(counters, 0u);

  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--from", to_s, "--to", from_s},
        {"--from", "-3"},
        {"--to", "x"}}) {
    std::vector<std::string> args = {"export",
                                     "--trace",
                                     engine_->string(),
                                     "--format",
                                     "csv",
                                     "--out",
                                     (scratch_dir() / "bad-range.csv").string()};
    args.insert(args.end(), bad.begin(), bad.end());
    const test::CliResult r = run_moescope(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(test::count_lines(r.err), 1) << r.err;
    EXPECT_FALSE(fs::exists(scratch_dir() / "bad-range.csv"));
  }
}

// ---- bad input --------------------------------------------------------------------------------

struct Failure {
  int exit_code;
  std::string err;
};

Failure export_fails(const std::vector<std::string>& args) {
  const test::CliResult r = run_moescope(args);
  EXPECT_EQ(test::count_lines(r.err), 1) << r.err;
  EXPECT_EQ(r.out, "");
  return {r.exit_code, r.err};
}

// Files in the scratch directory: a failing export adds none (no temporary left either).
std::set<std::string> listing() {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(scratch_dir())) out.insert(e.path().filename());
  return out;
}

TEST_F(ExportTest, BadInputIsOneLineAndLeavesNoFile) {
  const std::string trace = synthetic_->string();
  const std::string out = (scratch_dir() / "bad.csv").string();
  const std::set<std::string> before = listing();

  Failure f = export_fails({"export", "--trace", (scratch_dir() / "missing.sqlite").string(),
                            "--format", "csv", "--out", out});
  EXPECT_EQ(f.exit_code, 1);
  EXPECT_NE(f.err.find("missing.sqlite"), std::string::npos) << f.err;

  const fs::path corrupt = scratch_dir() / "corrupt.sqlite";
  {
    std::ofstream c(corrupt, std::ios::binary);
    c << "SQLite format 3" << std::string(4000, '\x5a');
  }
  f = export_fails({"export", "--trace", corrupt.string(), "--format", "json", "--out", out});
  EXPECT_EQ(f.exit_code, 1);
  EXPECT_NE(f.err.find("corrupt.sqlite"), std::string::npos) << f.err;
  fs::remove(corrupt);

  f = export_fails({"export", "--trace", trace, "--run", "9", "--format", "csv", "--out", out});
  EXPECT_EQ(f.exit_code, 1);
  EXPECT_NE(f.err.find("run 9"), std::string::npos) << f.err;

  f = export_fails({"export", "--trace", trace, "--format", "xml", "--out", out});
  EXPECT_EQ(f.exit_code, 2);
  EXPECT_NE(f.err.find("csv, json, perfetto"), std::string::npos) << f.err;

  f = export_fails(
      {"export", "--trace", trace, "--format", "csv", "--table", "nope", "--out", out});
  EXPECT_EQ(f.exit_code, 2);
  for (std::string_view t : csv_table_names()) EXPECT_NE(f.err.find(t), std::string::npos) << t;

  f = export_fails({"export", "--trace", trace, "--format", "csv"});
  EXPECT_EQ(f.exit_code, 2);
  f = export_fails({"export", "--format", "csv", "--out", out});
  EXPECT_EQ(f.exit_code, 2);

  f = export_fails({"export", "--trace", trace, "--format", "perfetto", "--out",
                    (scratch_dir() / "no-such-dir" / "x.json").string()});
  EXPECT_EQ(f.exit_code, 1);
  EXPECT_NE(f.err.find("no-such-dir"), std::string::npos) << f.err;
  f = export_fails(
      {"export", "--trace", trace, "--format", "perfetto", "--out", scratch_dir().string()});
  EXPECT_EQ(f.exit_code, 1);

  // Not over the trace it reads.
  f = export_fails({"export", "--trace", trace, "--format", "csv", "--out", trace});
  EXPECT_EQ(f.exit_code, 2);
  EXPECT_GT(fs::file_size(trace), 0u);
  EXPECT_NO_THROW(TraceReader{fs::path(trace)}.runs());

  EXPECT_EQ(listing(), before);

  // An existing file is left as it was when the export fails.
  {
    std::ofstream keep(out);
    keep << "keep me";
  }
  export_fails({"export", "--trace", trace, "--run", "7", "--format", "csv", "--out", out});
  EXPECT_EQ(slurp(out), "keep me");
  fs::remove(out);
}

// A trace that turns out damaged half-way through the export: the error names it and the partial
// output is removed.
TEST_F(ExportTest, FailureMidExportLeavesNoPartialFile) {
  const fs::path damaged = scratch_dir() / "damaged.sqlite";
  fs::copy_file(*synthetic_, damaged, fs::copy_options::overwrite_existing);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(damaged.c_str(), &db), SQLITE_OK);
    // Position 250 of run 2: a weights array of the wrong length.
    const std::string sql =
        "UPDATE routing SET weights = x'0000' WHERE id = (2 << 44) + (250 << 16)";
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
    EXPECT_EQ(sqlite3_changes(db), 1);
    sqlite3_close(db);
  }
  const std::set<std::string> before = listing();
  for (const char* format : {"csv", "json", "perfetto"}) {
    const Failure f = export_fails({"export", "--trace", damaged.string(), "--format", format,
                                    "--out", (scratch_dir() / "partial.out").string(), "--quiet"});
    EXPECT_EQ(f.exit_code, 1) << format;
    EXPECT_NE(f.err.find("damaged"), std::string::npos) << f.err;
    EXPECT_EQ(listing(), before) << format;
  }
  fs::remove(damaged);
}

TEST_F(ExportTest, QuietPrintsNothing) {
  const fs::path out = scratch_dir() / "quiet.json";
  const test::CliResult r = run_moescope({"export", "--trace", synthetic_->string(), "--format",
                                          "perfetto", "--out", out.string(), "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(json::parse(slurp(out))["traceEvents"].size() > 0);
}

// Not run by ctest: the export time of a 100k-token synthetic trace (32 MoE layers x 8 experts,
// top-2, an LRU cache), each format. Run with --gtest_also_run_disabled_tests
// --gtest_filter='*Export100k*'; docs/trace-format.md ("Exporting") has the numbers.
TEST(ExportBench, DISABLED_Export100kTokens) {
  const fs::path path = scratch_dir() / "100k.sqlite";
  SyntheticRecording what;
  what.spec.n_layers = 32;
  what.spec.n_experts = 8;
  what.spec.top_k = 2;
  what.spec.n_tokens = 100000;
  what.spec.n_prefill = 512;
  what.policy = "lru";
  auto t0 = std::chrono::steady_clock::now();
  const int64_t run = write_synthetic_trace(path, what);
  std::printf("trace written in %.1f s, %.0f MiB\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
              double(fs::file_size(path)) / 1048576.0);
  TraceReader reader(path);
  struct Case {
    const char* name;
    ExportFormat format;
    CsvTable table;
  };
  for (const Case& c : {Case{"csv routing", ExportFormat::kCsv, CsvTable::kRouting},
                        Case{"csv tokens", ExportFormat::kCsv, CsvTable::kTokens},
                        Case{"csv events", ExportFormat::kCsv, CsvTable::kEvents},
                        Case{"csv layers", ExportFormat::kCsv, CsvTable::kLayers},
                        Case{"csv policy-tokens", ExportFormat::kCsv, CsvTable::kPolicyTokens},
                        Case{"json", ExportFormat::kJson, CsvTable::kRouting},
                        Case{"perfetto", ExportFormat::kPerfetto, CsvTable::kRouting}}) {
    const fs::path out = scratch_dir() / "100k.out";
    std::ofstream f(out, std::ios::binary);
    ExportOptions options;
    options.format = c.format;
    options.table = c.table;
    t0 = std::chrono::steady_clock::now();
    const ExportStats s = export_run(reader, run, options, f);
    f.close();
    std::printf("%-18s %6.2f s  %8.1f MiB  %10lld records\n", c.name,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                double(s.bytes) / 1048576.0, static_cast<long long>(s.records));
    fs::remove(out);
  }
  fs::remove_all(scratch_dir());
}

}  // namespace
}  // namespace moescope::storage
