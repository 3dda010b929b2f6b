#include "views/settings/policy_choices.h"

#include "engine/policy/link_model.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/registry.h"

namespace moescope::views {
namespace {

// The GUI spellings of the registry's entries of a kind offered so, in registry order.
QStringList offered(policy::EntryKind kind, policy::Offer offer) {
  QStringList out;
  for (const policy::RegistryEntry* e : policy::registry_entries(kind)) {
    if (e->offer != offer) continue;
    for (const std::string& spelling : e->gui_list()) out << QString::fromStdString(spelling);
  }
  return out;
}

}  // namespace

QStringList live_policies() {
  return offered(policy::EntryKind::kPolicy, policy::Offer::kDrive);
}

QStringList comparable_policies() {
  return live_policies() + offered(policy::EntryKind::kPolicy, policy::Offer::kCompare);
}

bool is_oracle_policy(const QString& spec) {
  try {
    return policy::parse_policy_spec(spec.toStdString()).oracle;
  } catch (...) {
    return false;
  }
}

QStringList prefetcher_choices() {
  return offered(policy::EntryKind::kPrefetcher, policy::Offer::kDrive);
}

QStringList fitted_prefetchers() {
  return offered(policy::EntryKind::kPrefetcher, policy::Offer::kDisabled);
}

QStringList history_policies() {
  return offered(policy::EntryKind::kPolicy, policy::Offer::kDisabled);
}

QString registry_summary(const QString& name) {
  const QString base = name.section(QLatin1Char(':'), 0, 0);
  for (policy::EntryKind kind : {policy::EntryKind::kPolicy, policy::EntryKind::kPrefetcher}) {
    QString bare = base;
    if (kind == policy::EntryKind::kPolicy && bare.endsWith("-global")) bare.chop(7);
    if (const policy::RegistryEntry* e = policy::find_entry(kind, bare.toStdString()))
      return QString::fromUtf8(e->summary.data(), qsizetype(e->summary.size()));
  }
  return {};
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
