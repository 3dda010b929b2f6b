#include "views/settings/policy_choices.h"

#include "engine/policy/link_model.h"
#include "engine/policy/policy_factory.h"

namespace moescope::views {

QStringList live_policies() {
  return {"lru", "lru-global",  "lfu",       "lfu-global",   "fifo",        "fifo-global", "random",
          "arc", "least-stale", "lookahead", "static-front", "static-back", "on-demand"};
}

QStringList comparable_policies() {
  QStringList out = live_policies();
  out << "mrs"
      << "belady-bypass"
      << "belady-bypass-global"
      << "opt"
      << "sch"
      << "sch-global"
      << "stationary";
  return out;
}

bool is_oracle_policy(const QString& spec) {
  try {
    return policy::parse_policy_spec(spec.toStdString()).oracle;
  } catch (...) {
    return false;
  }
}

QStringList prefetcher_choices() {
  return {"none", "same-prev", "affinity", "affinity:0:2", "freq", "next-gate", "next-gate:2"};
}

QStringList fitted_prefetchers() {
  return {"affinity-fit", "path"};
}

QStringList history_policies() {
  return {"static-freq"};
}

QStringList link_choices() {
  QStringList out;
  for (std::string_view name : policy::LinkModel::preset_names()) {
    out << QString::fromUtf8(name.data(), qsizetype(name.size()));
  }
  return out;
}

QStringList allocator_choices() {
  return {"uniform", "shallow-first"};
}

}  // namespace moescope::views
