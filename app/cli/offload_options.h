#pragma once
// The expert-offloading flags that generate, bench and perplexity share, and the summary they
// print at the end: one row for the policy that drove the real cache (its modelled stall and the
// stall measured on the wall clock) and one per --compare policy, run as shadows on the identical
// access stream and budget (oracles in a second pass over the recorded stream). Lossy gating
// variants are flagged in every row and in the JSON.
#include <QCommandLineParser>
#include <QJsonObject>

#include <memory>
#include <optional>
#include <string>

#include "engine/model/model.h"
#include "engine/offload/expert_store.h"
#include "engine/offload/lossy_gating.h"
#include "engine/offload/offload_attachment.h"
#include "engine/offload/offload_config.h"

namespace moescope::cli {

void add_offload_options(QCommandLineParser& parser);

struct OffloadRequest {
  std::optional<offload::OffloadConfig> config;  // when --expert-budget or --expert-slots is given
  offload::LossyOptions lossy;                   // adaptive top-k also works without a budget
  bool curves = false;                           // --curves: hit rate vs capacity, LRU and OPT
  // A profiling run given no --expert-budget/--expert-slots: fit_budget() sets the budget.
  bool default_budget = false;
  // --expert-budget 10%: a share of the model's routed experts, resolved by fit_budget().
  double budget_share = 0;
  bool active() const { return config.has_value() || lossy.any(); }
  // Once the model is known: a --expert-budget share as slots, or by default
  // kProfileBudgetShare of the routed experts (at least one slot per MoE layer).
  void fit_budget(const policy::MoeShape& shape);
};

// What a profiling run (record, generate --trace) offloads with when given no budget, and the
// shadows it compares when given no --compare (the driving policy itself is left out).
inline constexpr double kProfileBudgetShare = 0.25;
inline constexpr const char* kProfileShadows[] = {"lru", "lfu", "fifo", "belady-bypass"};

// Reads the flags. Throws moescope::Error, one line naming the flag, for anything the user must
// change (exit code 2). profiling: offload even without a budget (default_budget) and compare
// kProfileShadows without --compare.
OffloadRequest parse_offload_options(const QCommandLineParser& parser, bool profiling = false);

// Offloading and lossy gating for one run, and the summary of what they did. Either it installs
// them on a model itself (bench, perplexity: restored when the run is destroyed; `downstream`
// hears the routing events after the store), or it reports on an attachment made elsewhere (the
// session pipeline's, for generate and record).
class OffloadRun {
 public:
  OffloadRun(Model& model, const OffloadRequest& request, MoeObserver* downstream = nullptr);
  // `attachment` must outlive this run.
  OffloadRun(const OffloadRequest& request, const offload::OffloadAttachment& attachment);
  ~OffloadRun();
  OffloadRun(const OffloadRun&) = delete;
  OffloadRun& operator=(const OffloadRun&) = delete;

  offload::ExpertStore* store() { return attachment_->store(); }
  bool lossy() const { return request_.lossy.any(); }

  // Call after the run (the store is idle then).
  QJsonObject summary_json() const;
  std::string summary_text() const;  // Markdown table and notes, starting with a blank line

 private:
  OffloadRequest request_;
  std::unique_ptr<offload::OffloadAttachment> owned_;
  const offload::OffloadAttachment* attachment_;
};

}  // namespace moescope::cli
