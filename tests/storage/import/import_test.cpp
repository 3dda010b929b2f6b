// `moescope import`'s readers, entry by entry: files of every format written here from known
// routing (import_samples.h), imported into a trace, and read back token by token through
// TraceReader with their requests, steps and phases. Also hostile files: truncated, garbage,
// out-of-range ids, each a one-line error that leaves no trace behind.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "storage/import/importer.h"
#include "storage/trace_reader.h"
#include "tests/storage/import/import_samples.h"
#include "tests/storage/storage_test_util.h"

namespace moescope::storage::import {
namespace {

using test::Routing;
using nlohmann::json;

struct ReadBack {
  Routing experts;  // [token][MoE layer][selected]
  std::vector<int32_t> request, step, token_id;
  std::vector<policy::Phase> phase;
};

ReadBack read_back(const std::filesystem::path& trace, int64_t run) {
  TraceReader reader(trace);
  const policy::MoeShape shape = reader.shape(run);
  ReadBack out;
  reader.scan_token_routing(run, [&](const TokenRouting& t) {
    EXPECT_EQ(t.pos, int32_t(out.experts.size()));
    auto& tok = out.experts.emplace_back();
    for (int32_t l = 0; l < shape.n_layers(); ++l) {
      std::vector<int32_t> ids;
      for (ExpertId e : t.experts(l)) ids.push_back(e.value);
      tok.push_back(ids);
    }
    out.request.push_back(t.request);
    out.step.push_back(t.step);
    out.phase.push_back(t.phase);
    out.token_id.push_back(t.token_id);
  });
  return out;
}

// The routing an import must give: MoE layers only (those not in `dense`), -1 slots dropped.
std::vector<std::vector<int32_t>> expected_token(const std::vector<std::vector<int32_t>>& tok,
                                                 const std::vector<int>& dense) {
  std::vector<std::vector<int32_t>> out;
  for (size_t l = 0; l < tok.size(); ++l) {
    if (std::find(dense.begin(), dense.end(), int(l)) != dense.end()) continue;
    std::vector<int32_t> ids;
    for (int32_t e : tok[l])
      if (e >= 0) ids.push_back(e);
    out.push_back(ids);
  }
  return out;
}

ImportResult run_import(ImportFormat f, const std::filesystem::path& in,
                        const std::filesystem::path& trace, int layers = 0, int topk = 0,
                        int experts = 0) {
  ImportOptions o;
  o.format = f;
  o.in = in;
  o.trace = trace;
  o.layers = layers;
  o.topk = topk;
  o.experts = experts;
  return import_routing(o);
}

TEST(Import, SglangRoutedExpertsWithDenseLayersPaddingAndThreeRequests) {
  std::mt19937 rng(3);
  const auto in = storage::test::temp_path("sglang.jsonl");
  const auto trace = storage::test::temp_path("sglang.sqlite");
  // 5 layers, layer 0 and 3 dense (-1), top-3 with the last slot padded (-1) in request 1.
  std::vector<Routing> reqs;
  std::vector<int> prompts = {4, 2, 3}, completions = {3, 1, 5};
  std::string text;
  for (int r = 0; r < 3; ++r) {
    const int tokens = prompts[r] + completions[r] - 1;
    reqs.push_back(test::random_routing(rng, tokens, 5, 3, 10, {0, 3}, r == 1 ? 1 : 0));
    json line = {{"text", "out"},
                 {"meta_info",
                  {{"id", "rid-" + std::to_string(r)},
                   {"prompt_tokens", prompts[r]},
                   {"completion_tokens", completions[r]},
                   {"routed_experts", test::base64(test::int32_bytes(test::flatten(reqs[r])))}}}};
    text += line.dump() + "\n";
  }
  test::write_text(in, text);
  const ImportResult res = run_import(ImportFormat::kRoutedExperts, in, trace, 5, 3);
  EXPECT_EQ(res.source_format, "routed-experts-sglang");
  EXPECT_EQ(res.requests, 3);
  EXPECT_EQ(res.shape.model_layer, (std::vector<int32_t>{1, 2, 4}));
  EXPECT_EQ(res.shape.top_k, (std::vector<int32_t>{3, 3, 3}));
  const ReadBack got = read_back(trace, res.run);
  size_t t = 0;
  int32_t step = 0;
  for (int r = 0; r < 3; ++r) {
    const int32_t prefill_step = step++;
    for (size_t i = 0; i < reqs[size_t(r)].size(); ++i, ++t) {
      ASSERT_LT(t, got.experts.size());
      EXPECT_EQ(got.experts[t], expected_token(reqs[size_t(r)][i], {0, 3})) << "token " << t;
      EXPECT_EQ(got.request[t], r);
      const bool prompt = int(i) < prompts[size_t(r)];
      EXPECT_EQ(got.phase[t], prompt ? policy::Phase::kPrefill : policy::Phase::kDecode);
      EXPECT_EQ(got.step[t], prompt ? prefill_step : step++);
    }
  }
  EXPECT_EQ(t, got.experts.size());
  TraceReader reader(trace);
  const RunInfo info = reader.run_info(res.run);
  EXPECT_TRUE(info.imported());
  EXPECT_EQ(info.source.sha256.size(), 64u);
  EXPECT_EQ(info.model.n_model_layers, 5);
  const auto requests = reader.requests(res.run);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].n_tokens, 2);
  EXPECT_EQ(json::parse(requests[2].source_json)["id"], "rid-2");
  // Without the shape flags the file cannot be read, but the token counts give it with one flag.
  storage::test::expect_error(
      [&] { run_import(ImportFormat::kRoutedExperts, in, storage::test::temp_path("x.sqlite")); },
      "give --layers and --topk");
  const ImportResult derived =
      run_import(ImportFormat::kRoutedExperts, in, storage::test::temp_path("y.sqlite"), 0, 3);
  EXPECT_EQ(derived.source_layers, 5);
}

TEST(Import, VllmNpyInt16AndRawInt32ChoicesAreRequests) {
  std::mt19937 rng(5);
  const auto in = storage::test::temp_path("vllm.jsonl");
  const auto trace = storage::test::temp_path("vllm.sqlite");
  const Routing a = test::random_routing(rng, 4, 3, 2, 300);  // ids > 255: int16
  const Routing b = test::random_routing(rng, 6, 3, 2, 300);
  const Routing c = test::random_routing(rng, 3, 3, 2, 300);
  json l1 = {{"id", "cmpl-1"},
             {"usage", {{"prompt_tokens", 2}}},
             {"choices",
              {{{"index", 0},
                {"routed_experts", test::base64(test::npy(test::flatten(a), {4, 3, 2}, true))}},
               {{"index", 1},
                {"routed_experts", test::base64(test::npy(test::flatten(b), {6, 3, 2}, false))}}}}};
  json l2 = {{"id", "cmpl-2"},
             {"choices",
              {{{"index", 0},
                {"routed_experts",
                 {{"data", test::base64(test::int32_bytes(test::flatten(c)))},
                  {"shape", {3, 3, 2}},
                  {"dtype", "int32"}}}}}}};
  test::write_text(in, l1.dump() + "\n\n" + l2.dump() + "\n");
  const ImportResult res = run_import(ImportFormat::kRoutedExperts, in, trace, 0, 0, 300);
  EXPECT_EQ(res.source_format, "routed-experts-vllm");
  EXPECT_EQ(res.requests, 3);
  EXPECT_EQ(res.shape.n_experts, (std::vector<int32_t>{300, 300, 300}));
  const ReadBack got = read_back(trace, res.run);
  std::vector<std::pair<const Routing*, int>> all = {{&a, 0}, {&b, 1}, {&c, 2}};
  size_t t = 0;
  for (const auto& [r, id] : all) {
    for (size_t i = 0; i < r->size(); ++i, ++t) {
      ASSERT_LT(t, got.experts.size());
      EXPECT_EQ(got.experts[t], expected_token((*r)[i], {}));
      EXPECT_EQ(got.request[t], id);
    }
  }
  EXPECT_EQ(t, got.experts.size());
  // usage.prompt_tokens splits prefill from decode for the first line's choices.
  EXPECT_EQ(got.phase[1], policy::Phase::kPrefill);
  EXPECT_EQ(got.phase[2], policy::Phase::kDecode);
}

TEST(Import, LlamaCsvWithAndWithoutTokenColumns) {
  std::mt19937 rng(9);
  const Routing r = test::random_routing(rng, 4, 2, 2, 6);
  // phase,token,layer,rank,expert: a prefill call of tokens 0-2 (rows in reverse rank order),
  // then token 3 decoded.
  std::string five = "phase,token,layer,rank,expert\n";
  std::string two, three;
  auto call = [&](const char* phase, std::vector<int> toks) {
    for (int l = 0; l < 2; ++l)
      for (int t : toks)
        for (int k = 1; k >= 0; --k) {
          five += fmt::format("{},{},{},{},{}\n", phase, t, l, k, r[size_t(t)][size_t(l)][size_t(k)]);
        }
    for (int l = 0; l < 2; ++l)
      for (int t : toks)
        for (int k = 0; k < 2; ++k) {
          two += fmt::format("{},{}\n", l, r[size_t(t)][size_t(l)][size_t(k)]);
          three += fmt::format("{},{},{}\n", l, r[size_t(t)][size_t(l)][size_t(k)], t);
        }
  };
  call("prefill", {0, 1, 2});
  call("decode", {3});
  for (const auto& [name, text, topk] :
       {std::tuple{"five.csv", five, 0}, std::tuple{"two.csv", two, 2},
        std::tuple{"three.csv", three, 0}}) {
    SCOPED_TRACE(name);
    const auto in = storage::test::temp_path(name);
    const auto trace = storage::test::temp_path(std::string(name) + ".sqlite");
    test::write_text(in, text);
    const ImportResult res = run_import(ImportFormat::kLlamaCsv, in, trace, 0, topk);
    const ReadBack got = read_back(trace, res.run);
    ASSERT_EQ(got.experts.size(), 4u);
    for (size_t t = 0; t < 4; ++t) EXPECT_EQ(got.experts[t], expected_token(r[t], {}));
    EXPECT_EQ(got.step, (std::vector<int32_t>{0, 0, 0, 1}));
    EXPECT_EQ(got.phase[0], policy::Phase::kPrefill);
    EXPECT_EQ(got.phase[3], policy::Phase::kDecode);
  }
  storage::test::expect_error(
      [&] {
        const auto in = storage::test::temp_path("two_no_k.csv");
        test::write_text(in, two);
        run_import(ImportFormat::kLlamaCsv, in, storage::test::temp_path("n.sqlite"));
      },
      "give --topk");
}

// Physical slots 6, 7 replicate logical experts 1 and 4 on layer 1; layer 0 is dense; the map
// differs per layer.
const std::vector<std::vector<int64_t>> kMap = {{0, 1, 2, 3, 4, 5, 1, 4}, {5, 4, 3, 2, 1, 0, 4, 2}};

test::SampleValue per_token_record(int64_t fid, int64_t mode, std::optional<std::vector<int64_t>> lens,
                                   const std::vector<int64_t>& positions,
                                   const std::vector<std::vector<std::vector<int64_t>>>& phys) {
  // phys [token][layer][8]
  test::SampleTensor topk;
  topk.shape = {2, int64_t(positions.size()), 8};
  for (size_t l = 0; l < 2; ++l)
    for (size_t t = 0; t < positions.size(); ++t)
      for (size_t k = 0; k < 8; ++k) topk.values.push_back(phys[t][l][k]);
  std::vector<int64_t> ids;
  for (int64_t p : positions) ids.push_back(1000 + p);
  test::SampleValue none;
  return test::py_dict({{"forward_pass_id", test::py_int(fid)},
                        {"rank", test::py_int(0)},
                        {"gatherer_key", test::py_str("primary")},
                        {"input_ids", test::py_list(ids)},
                        {"positions", test::py_list(positions)},
                        {"extend_seq_lens", lens ? test::py_list(*lens) : none},
                        {"forward_mode", test::py_int(mode)},
                        {"topk_ids_of_layer", test::py_tensor(topk)},
                        {"misc_objects", test::py_list({})}});
}

TEST(Import, SglangPerTokenDumpRemapsPhysicalIdsAndRebuildsRequests) {
  std::mt19937 rng(11);
  // Per token: layer 0 all -1, layer 1 two physical slots then -1 padding up to 8.
  auto token = [&](std::vector<std::vector<int32_t>>& logical) {
    std::vector<std::vector<int64_t>> phys(2, std::vector<int64_t>(8, -1));
    std::vector<int64_t> slots = {0, 1, 2, 3, 4, 5, 6, 7};
    std::shuffle(slots.begin(), slots.end(), rng);
    std::vector<int32_t> chosen;
    for (int64_t p : slots) {
      const auto e = int32_t(kMap[1][size_t(p)]);
      if (std::find(chosen.begin(), chosen.end(), e) != chosen.end()) continue;
      phys[1][chosen.size()] = p;
      chosen.push_back(e);
      if (chosen.size() == 2) break;
    }
    logical.push_back(chosen);
    return phys;
  };
  std::vector<std::vector<std::vector<int32_t>>> want;  // [token][moe layer][k]
  std::vector<int32_t> want_request, want_step;
  auto make = [&](int64_t fid, int64_t mode, std::optional<std::vector<int64_t>> lens,
                  std::vector<int64_t> positions, std::vector<int32_t> requests) {
    std::vector<std::vector<std::vector<int64_t>>> phys;
    for (size_t t = 0; t < positions.size(); ++t) {
      std::vector<std::vector<int32_t>> logical;
      phys.push_back(token(logical));
      want.push_back(logical);
      want_request.push_back(requests[t]);
      want_step.push_back(int32_t(fid));
    }
    return per_token_record(fid, mode, lens, positions, phys);
  };
  std::vector<test::SampleValue> records;
  records.push_back(make(40, 1, std::vector<int64_t>{3, 2}, {0, 1, 2, 0, 1}, {0, 0, 0, 1, 1}));
  records.push_back(make(41, 2, std::nullopt, {2, 3}, {1, 0}));  // decode, batch order swapped
  records.push_back(make(42, 2, std::nullopt, {4, 3, 7}, {0, 1, 2}));  // 7: started earlier
  test::SampleTensor map;
  map.shape = {2, 8};
  map.int64 = true;
  for (const auto& row : kMap) map.values.insert(map.values.end(), row.begin(), row.end());
  const auto in = storage::test::temp_path("per_token.pt");
  test::write_torch_save(in, test::py_dict({{"records", test::py_list_of(records)},
                                            {"last_physical_to_logical_map", test::py_tensor(map)}}));
  const auto trace = storage::test::temp_path("per_token.sqlite");
  const ImportResult res = run_import(ImportFormat::kSglangPt, in, trace, 0, 0, 6);
  EXPECT_EQ(res.source_format, "sglang-pt");
  EXPECT_EQ(res.shape.model_layer, (std::vector<int32_t>{1}));
  EXPECT_EQ(res.requests, 3);
  const ReadBack got = read_back(trace, res.run);
  ASSERT_EQ(got.experts.size(), want.size());
  for (size_t t = 0; t < want.size(); ++t) {
    EXPECT_EQ(got.experts[t], want[t]) << "token " << t;
  }
  EXPECT_EQ(got.request, want_request);
  EXPECT_EQ(got.step, want_step);
  EXPECT_EQ(got.token_id[0], 1000);
  EXPECT_EQ(got.phase[0], policy::Phase::kPrefill);
  EXPECT_EQ(got.phase[5], policy::Phase::kDecode);
  TraceReader reader(trace);
  EXPECT_NE(reader.requests(res.run)[2].source_json.find("started_before_recording"),
            std::string::npos);
}

TEST(Import, SglangStatDumpIsACountsOnlyRun) {
  const auto in = storage::test::temp_path("stat.pt");
  test::SampleTensor counts;
  counts.shape = {2, 3, 4};  // [steps][layers][experts]; layer 0 dense
  counts.values = {0, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 1,  //
                   0, 0, 0, 0, 0, 7, 1, 0, 2, 2, 2, 2};
  test::write_torch_save(in, test::py_dict({{"rank", test::py_int(0)},
                                            {"logical_count", test::py_tensor(counts)},
                                            {"average_utilization_rate_over_window", {}}}));
  storage::test::expect_error(
      [&] { run_import(ImportFormat::kSglangPt, in, storage::test::temp_path("s0.sqlite")); },
      "give --topk");
  const auto trace = storage::test::temp_path("stat.sqlite");
  const ImportResult res = run_import(ImportFormat::kSglangPt, in, trace, 0, 2);
  EXPECT_TRUE(res.counts_only);
  EXPECT_EQ(res.shape.model_layer, (std::vector<int32_t>{1, 2}));
  TraceReader reader(trace);
  const auto steps = reader.step_expert_counts(res.run);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].counts, (std::vector<int64_t>{1, 2, 3, 4, 5, 0, 0, 1}));
  EXPECT_EQ(steps[1].counts, (std::vector<int64_t>{0, 7, 1, 0, 2, 2, 2, 2}));
  const ExpertMatrices m = reader.expert_matrices(res.run);
  EXPECT_EQ(m.activations.at(0, 1), 9);
  EXPECT_EQ(m.activations.at(1, 0), 7);
  EXPECT_FALSE(reader.token_routing_unavailable(res.run).empty());
}

// Hostile inputs: one line, and no trace file appears.
TEST(Import, BadFilesFailWithOneLineAndWriteNoTrace) {
  std::mt19937 rng(1);
  const Routing r = test::random_routing(rng, 3, 2, 2, 8);
  const std::string good = json{{"meta_info", {{"routed_experts",
                                                test::base64(test::int32_bytes(test::flatten(r)))}}}}
                               .dump();
  std::vector<uint8_t> pt_bytes;
  {
    const auto p = storage::test::temp_path("ok.pt");
    test::SampleTensor map{{2, 2}, {0, 1, 0, 1}, true};
    test::write_torch_save(p, test::py_dict({{"records", test::py_list_of({per_token_record(0, 1, std::vector<int64_t>{1}, {0}, {{{0, 1, -1, -1, -1, -1, -1, -1}, {0, 1, -1, -1, -1, -1, -1, -1}}})})},
                                             {"last_physical_to_logical_map", test::py_tensor(map)}}));
    std::ifstream f(p, std::ios::binary);
    pt_bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  const std::string pt(pt_bytes.begin(), pt_bytes.end());
  struct Case {
    const char* name;
    ImportFormat format;
    std::string bytes;
    const char* needle;
  };
  std::string bad_id = r.empty() ? "" : good;
  std::vector<int32_t> ids = test::flatten(r);
  ids[3] = -7;
  const std::string negative =
      json{{"meta_info", {{"routed_experts", test::base64(test::int32_bytes(ids))}}}}.dump();
  ids[3] = ids[2];
  const std::string twice =
      json{{"meta_info", {{"routed_experts", test::base64(test::int32_bytes(ids))}}}}.dump();
  const std::vector<Case> cases = {
      {"empty.jsonl", ImportFormat::kRoutedExperts, "", "no responses"},
      {"truncated.jsonl", ImportFormat::kRoutedExperts, good.substr(0, good.size() / 2),
       "not a JSON object"},
      {"garbage.jsonl", ImportFormat::kRoutedExperts, "\x01\x02garbage\xff", "not a JSON object"},
      {"no_field.jsonl", ImportFormat::kRoutedExperts, R"({"text":"hi"})", "no routed experts"},
      {"bad_b64.jsonl", ImportFormat::kRoutedExperts,
       R"({"meta_info":{"routed_experts":"@@@@"}})", "not base64"},
      {"odd_len.jsonl", ImportFormat::kRoutedExperts,
       R"({"meta_info":{"routed_experts":"AAAAAAA="}})", "not whole int32"},
      {"negative.jsonl", ImportFormat::kRoutedExperts, negative, "selects expert -7"},
      {"twice.jsonl", ImportFormat::kRoutedExperts, twice, "twice"},
      {"bad_npy.jsonl", ImportFormat::kRoutedExperts,
       R"({"choices":[{"routed_experts":"AAAA"}]})", "not a .npy array"},
      {"garbage.csv", ImportFormat::kLlamaCsv, "layer,expert\n0,x\n", "not a non-negative"},
      {"short.csv", ImportFormat::kLlamaCsv, "phase,token,layer,rank,expert\nprefill,0,0,0,1\n"
                                             "prefill,0,0\n", "columns"},
      {"empty.csv", ImportFormat::kLlamaCsv, "", "no routing rows"},
      {"garbage.pt", ImportFormat::kSglangPt, "not a zip at all, just some bytes", "not a torch.save"},
      {"truncated.pt", ImportFormat::kSglangPt, pt.substr(0, pt.size() / 2), "torch.save"},
      {"cut_tail.pt", ImportFormat::kSglangPt, pt.substr(0, pt.size() - 10), ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const auto in = storage::test::temp_path(c.name);
    const auto trace = storage::test::temp_path(std::string(c.name) + ".sqlite");
    test::write_text(in, c.bytes);
    storage::test::expect_error([&] { run_import(c.format, in, trace, 2, 2); }, c.needle);
    EXPECT_FALSE(std::filesystem::exists(trace));
  }
  // An expert beyond --experts, and a physical id outside the map.
  const auto in = storage::test::temp_path("range.jsonl");
  test::write_text(in, good + "\n");
  storage::test::expect_error(
      [&] { run_import(ImportFormat::kRoutedExperts, in, storage::test::temp_path("r.sqlite"), 2, 2, 2); },
      "--experts says 2 experts");
  const auto pt_in = storage::test::temp_path("phys.pt");
  test::SampleTensor map{{2, 2}, {0, 1, 0, 1}, true};
  test::write_torch_save(pt_in, test::py_dict({{"records", test::py_list_of({per_token_record(0, 1, std::vector<int64_t>{1}, {0}, {{{0, 5, -1, -1, -1, -1, -1, -1}, {0, 1, -1, -1, -1, -1, -1, -1}}})})},
                                               {"last_physical_to_logical_map", test::py_tensor(map)}}));
  storage::test::expect_error(
      [&] { run_import(ImportFormat::kSglangPt, pt_in, storage::test::temp_path("p.sqlite")); },
      "is not in the map");
}

}  // namespace
}  // namespace moescope::storage::import
