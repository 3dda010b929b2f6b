// The registry of policies and prefetchers: the factories accept every entry as the registry
// describes it, and docs/policies-cli.md shows exactly the registry's tables.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "engine/common/error.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/registry.h"
#include "engine/policy/synthetic_trace.h"

namespace moescope::policy {
namespace {

TEST(Registry, EveryPolicyParsesAsItsEntrySays) {
  std::set<std::string_view> names;
  for (const RegistryEntry* e : registry_entries(EntryKind::kPolicy)) {
    SCOPED_TRACE(std::string(e->name));
    EXPECT_TRUE(names.insert(e->name).second) << "listed twice";
    EXPECT_FALSE(e->lossy);  // a policy only moves experts
    const PolicySpec bare = parse_policy_spec(e->name);
    EXPECT_EQ(bare.kind, e->name);
    EXPECT_EQ(bare.oracle, e->needs == Needs::kFuture);
    EXPECT_EQ(bare.needs_history, e->needs == Needs::kHistory);
    EXPECT_EQ(bare.pool, (e->forms & kPerLayerForm) ? PoolKind::kPerLayer : PoolKind::kGlobal);
    if (e->params.empty()) {
      EXPECT_TRUE(bare.params.empty());
      EXPECT_THROW(parse_policy_spec(std::string(e->name) + ":1"), Error);
    } else {
      ASSERT_EQ(bare.params.size(), 1u);
      EXPECT_EQ(bare.params[0], e->param_default);
    }
    const std::string global = std::string(e->name) + "-global";
    if (e->forms == kBothForms) {
      EXPECT_EQ(parse_policy_spec(global).pool, PoolKind::kGlobal);
    } else if (e->forms == kPerLayerForm) {
      EXPECT_THROW(parse_policy_spec(global), Error);
    }
    for (const std::string& spelling : e->gui_list()) EXPECT_NO_THROW(parse_policy_spec(spelling));
  }
  EXPECT_THROW(parse_policy_spec("no-such-policy"), Error);
}

TEST(Registry, EveryPrefetcherIsMadeAsItsEntrySays) {
  const RoutingTrace fit = synthetic_trace({.n_layers = 2, .n_experts = 8, .n_tokens = 30});
  for (const RegistryEntry* e : registry_entries(EntryKind::kPrefetcher)) {
    SCOPED_TRACE(std::string(e->name));
    EXPECT_EQ(e->forms, kNoForms);
    EXPECT_FALSE(e->lossy);  // a prefetcher only moves experts
    EXPECT_NE(make_prefetcher(e->name, {&fit}), nullptr);
    // Fitted prefetchers refuse to run without the trace they are fitted on; the others do not
    // need it.
    if (e->needs == Needs::kHistory) {
      EXPECT_THROW(make_prefetcher(e->name, {}), Error);
    } else {
      EXPECT_NE(make_prefetcher(e->name, {}), nullptr);
    }
    for (const std::string& spelling : e->gui_list())
      EXPECT_NE(make_prefetcher(spelling, {&fit}), nullptr) << spelling;
  }
  EXPECT_THROW(make_prefetcher("no-such-prefetcher", {}), Error);
}

TEST(Registry, HelpHasOneLinePerEntry) {
  for (EntryKind kind : {EntryKind::kPolicy, EntryKind::kPrefetcher}) {
    const auto entries = registry_entries(kind);
    const auto help = registry_help(kind);
    ASSERT_EQ(help.size(), entries.size());
    for (size_t i = 0; i < help.size(); ++i) {
      EXPECT_EQ(help[i].rfind(entries[i]->spelling(), 0), 0u) << help[i];
      EXPECT_NE(help[i].find(entries[i]->summary), std::string::npos) << help[i];
    }
  }
}

// The text between <!-- registry:NAME --> and <!-- /registry:NAME --> in the document.
std::string generated_section(const std::string& doc, const std::string& name) {
  const std::string open = "<!-- registry:" + name + " -->\n";
  const std::string close = "<!-- /registry:" + name + " -->";
  const size_t a = doc.find(open);
  const size_t b = doc.find(close);
  if (a == std::string::npos || b == std::string::npos || b < a) return "(no section " + name + ")";
  return doc.substr(a + open.size(), b - a - open.size());
}

TEST(Registry, DocumentShowsTheRegistry) {
  std::ifstream in(MOESCOPE_SOURCE_DIR "/docs/policies-cli.md");
  ASSERT_TRUE(in) << "docs/policies-cli.md";
  std::stringstream doc;
  doc << in.rdbuf();
  // Regenerate with `moescope policies --markdown` and paste each table between its markers.
  EXPECT_EQ(generated_section(doc.str(), "policies"), registry_markdown(EntryKind::kPolicy));
  EXPECT_EQ(generated_section(doc.str(), "prefetchers"), registry_markdown(EntryKind::kPrefetcher));
}

}  // namespace
}  // namespace moescope::policy
