#include "views/suitability/run_suitability.h"

namespace moescope::views {

std::shared_ptr<const policy::Suitability> run_suitability(const policy::RoutingTrace& trace,
                                                           const QString& link) {
  if (trace.n_tokens() == 0) return nullptr;
  try {
    policy::SuitabilityOptions options;
    if (link != QStringLiteral("none"))
      options.link = policy::LinkModel::preset(link.toStdString());
    return std::make_shared<const policy::Suitability>(
        policy::offloading_suitability(trace, options));
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace moescope::views
