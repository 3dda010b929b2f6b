#include "views/session/analysis.h"

namespace moescope::views {

policy::AnalysisRequest analysis_request(const CacheSettings& settings,
                                         const policy::MoeShape& shape) {
  policy::AnalysisRequest r;
  r.policy = settings.policy.toStdString();
  r.prefetcher = settings.prefetcher.toStdString();
  r.link = settings.link.toStdString();
  r.allocator = settings.allocator.toStdString();
  for (const QString& spec : settings.compare) r.compare.push_back(spec.toStdString());
  r.bounds = bound_policies(settings);
  r.budget_slots = budget_slots(settings, shape);
  return r;
}

std::shared_ptr<AnalysisResult> analyse(const policy::RoutingTrace& trace,
                                        const CacheSettings& settings,
                                        const GatePredictions* gate_predictions,
                                        const PartialAnalysis& partial) {
  auto out = std::make_shared<AnalysisResult>();
  out->settings = settings;
  policy::AnalysisProgress progress;
  if (partial) {
    progress = [&](const policy::CacheAnalysis& so_far) {
      if (!so_far.complete()) partial(std::make_shared<const AnalysisResult>(*out));
    };
  }
  policy::analyse_cache(trace, analysis_request(settings, trace.shape), gate_predictions, *out,
                        progress);
  return out;
}

}  // namespace moescope::views
