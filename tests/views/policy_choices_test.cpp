// The settings panel's policy and prefetcher lists come from the registry
// (engine/policy/registry.h): every entry shows where its Offer says, with its GUI spellings, in
// registry order, and nothing else shows — a new registry entry needs nothing added by hand.
#include <QComboBox>
#include <QListWidget>
#include <QStandardItemModel>
#include <QtTest>

#include "engine/policy/registry.h"
#include "views/session/session_controller.h"
#include "views/settings/policy_choices.h"
#include "views/settings/settings_panel.h"

namespace moescope::views {
namespace {

QStringList expected(policy::EntryKind kind, std::initializer_list<policy::Offer> offers) {
  QStringList out;
  for (policy::Offer offer : offers) {
    for (const policy::RegistryEntry& e : policy::registry()) {
      if (e.kind != kind || e.offer != offer) continue;
      for (const std::string& s : e.gui_list()) out << QString::fromStdString(s);
    }
  }
  return out;
}

QStringList items(const QComboBox* c) {
  QStringList out;
  for (int i = 0; i < c->count(); ++i) out << c->itemText(i);
  return out;
}

}  // namespace

class PolicyChoicesTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void listsAreTheRegistrys() {
    using policy::EntryKind;
    using policy::Offer;
    QCOMPARE(live_policies(), expected(EntryKind::kPolicy, {Offer::kDrive}));
    QCOMPARE(comparable_policies(), expected(EntryKind::kPolicy, {Offer::kDrive, Offer::kCompare}));
    QCOMPARE(history_policies(), expected(EntryKind::kPolicy, {Offer::kDisabled}));
    QCOMPARE(prefetcher_choices(), expected(EntryKind::kPrefetcher, {Offer::kDrive}));
    QCOMPARE(fitted_prefetchers(), expected(EntryKind::kPrefetcher, {Offer::kDisabled}));
    // Every offered entry is somewhere, oracles only among the compared.
    for (const policy::RegistryEntry& e : policy::registry()) {
      if (e.offer == Offer::kHidden) continue;
      QVERIFY2(!e.gui_list().empty(), e.name.data());
      if (e.kind == EntryKind::kPolicy && e.oracle()) QCOMPARE(e.offer, Offer::kCompare);
      if (e.needs == policy::Needs::kHistory) QCOMPARE(e.offer, Offer::kDisabled);
    }
    QVERIFY(is_oracle_policy("belady-bypass-global"));
    QVERIFY(!is_oracle_policy("lru"));
  }

  void panelShowsTheLists() {
    SessionController s;
    SettingsPanel panel(&s);
    auto* policy = panel.findChild<QComboBox*>("policy");
    auto* prefetcher = panel.findChild<QComboBox*>("prefetcher");
    auto* compare = panel.findChild<QListWidget*>("comparePolicies");
    QVERIFY(policy && prefetcher && compare);
    QCOMPARE(items(policy), live_policies() + history_policies());
    QCOMPARE(items(prefetcher), prefetcher_choices() + fitted_prefetchers());
    QStringList compared;
    for (int i = 0; i < compare->count(); ++i) compared << compare->item(i)->text();
    QCOMPARE(compared.size(), comparable_policies().size());
    // Needing an earlier trace: listed, disabled. Every item says what it does.
    for (QComboBox* c : {policy, prefetcher}) {
      for (int i = 0; i < c->count(); ++i) {
        const bool fitted = history_policies().contains(c->itemText(i)) ||
                            fitted_prefetchers().contains(c->itemText(i));
        QVERIFY2(c->itemData(i, Qt::ToolTipRole).toString().size() > 0, qPrintable(c->itemText(i)));
        const auto* model = qobject_cast<const QStandardItemModel*>(c->model());
        if (model) QCOMPARE(model->item(i)->isEnabled(), !fitted);
      }
    }
  }
};

}  // namespace moescope::views

QTEST_MAIN(moescope::views::PolicyChoicesTest)
#include "policy_choices_test.moc"
