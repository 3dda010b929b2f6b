#include "views/settings/settings_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHash>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include <limits>
#include <optional>

#include "engine/policy/link_model.h"
#include "views/common/format.h"
#include "views/common/wheel_guard.h"
#include "views/session/session_controller.h"
#include "views/settings/policy_choices.h"

namespace moescope::views {
namespace {

QComboBox* combo(const QStringList& items, const QString& name, QWidget* parent) {
  auto* c = new QComboBox(parent);
  c->addItems(items);
  c->setObjectName(name);
  c->setSizeAdjustPolicy(QComboBox::AdjustToContents);  // translations differ in length
  return c;
}

// Appends `specs` as disabled entries: the engine has them, the window cannot run them.
void add_disabled(QComboBox* c, const QStringList& specs) {
  auto* model = qobject_cast<QStandardItemModel*>(c->model());
  for (const QString& spec : specs) {
    c->addItem(spec, spec);
    if (model) model->item(c->count() - 1)->setEnabled(false);
  }
}

void select(QComboBox* c, const QString& value) {
  int i = c->findText(value);
  if (i < 0) {
    c->addItem(value);
    i = c->count() - 1;
  }
  c->setCurrentIndex(i);
}

}  // namespace

SettingsPanel::SettingsPanel(SessionController* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  build();
  retranslate();
  pull();
  connect(session_, &SessionController::settingsChanged, this, &SettingsPanel::pull);
  connect(session_, &SessionController::modelLoaded, this, &SettingsPanel::updateBudgetLabel);
  connect(session_, &SessionController::modelLoaded, this, &SettingsPanel::updateContextLimit);
  connect(session_, &SessionController::recordedCacheChanged, this, &SettingsPanel::updateRecorded);
}

void SettingsPanel::updateRecorded() {
  const std::optional<CacheSettings>& r = session_->recorded_cache();
  recorded_box_->setVisible(r.has_value());
  if (!r) return;
  QStringList lines;
  lines << tr("Offloading: %1").arg(r->offload ? tr("on") : tr("off"))
        << tr("Budget: %1 %").arg(r->budget_percent) << tr("Policy: %1").arg(r->policy)
        << tr("Prefetcher: %1").arg(r->prefetcher) << tr("Link: %1").arg(r->link)
        << tr("Allocator: %1").arg(r->allocator);
  if (!r->compare.isEmpty()) lines << tr("Compared: %1").arg(r->compare.join(", "));
  const bool same = session_->settings().cache == *r;
  const QString note =
      same ? tr("Your settings are the same.")
      : session_->analysis_cache() == *r
          ? tr("The run on show is analysed with these settings. Your settings below stay as "
               "they are; changing them re-analyses the run with yours.")
          : tr("The run on show is analysed with your settings below.");
  recorded_->setText(lines.join("\n") + "\n\n" + note);
  use_recorded_->setEnabled(!same);
}

// The trace's recorded settings, read-only, with the one action that copies them.
void SettingsPanel::buildRecordedBox(QWidget* body) {
  recorded_box_ = new QGroupBox(body);
  recorded_box_->setObjectName("recordedSettings");
  auto* recorded_layout = new QVBoxLayout(recorded_box_);
  recorded_ = new QLabel(recorded_box_);
  recorded_->setObjectName("recordedSummary");
  recorded_->setWordWrap(true);
  recorded_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  use_recorded_ = new QPushButton(recorded_box_);
  use_recorded_->setObjectName("useRecordedSettings");
  recorded_layout->addWidget(recorded_);
  recorded_layout->addWidget(use_recorded_, 0, Qt::AlignLeft);
  recorded_box_->hide();
}

void SettingsPanel::build() {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  outer->addWidget(scroll);
  auto* body = new QWidget(scroll);
  scroll->setWidget(body);
  auto* layout = new QVBoxLayout(body);

  buildRecordedBox(body);
  layout->addWidget(recorded_box_);
  connect(use_recorded_, &QPushButton::clicked, session_, &SessionController::useRecordedCache);
  buildGenerationBox(body);
  layout->addWidget(generation_box_);
  buildCacheBox(body);
  layout->addWidget(cache_box_);
  buildCompareBox(body);
  layout->addWidget(compare_box_);
  buildLossyBox(body);
  layout->addWidget(lossy_box_);
  buildRecordBox(body);
  layout->addWidget(record_box_);
  layout->addStretch(1);
  install_wheel_guard(this);

  connectEdits();
  connectRecording();
}

void SettingsPanel::buildGenerationBox(QWidget* body) {
  generation_box_ = new QGroupBox(body);
  generation_form_ = new QFormLayout(generation_box_);
  max_tokens_ = new QSpinBox(generation_box_);
  max_tokens_->setObjectName("maxTokens");
  max_tokens_->setRange(-1, 100000);
  temperature_ = new QDoubleSpinBox(generation_box_);
  temperature_->setObjectName("temperature");
  temperature_->setRange(0, 5);
  temperature_->setSingleStep(0.05);
  top_k_ = new QSpinBox(generation_box_);
  top_k_->setRange(0, 100000);
  top_p_ = new QDoubleSpinBox(generation_box_);
  top_p_->setRange(0, 1);
  top_p_->setSingleStep(0.01);
  min_p_ = new QDoubleSpinBox(generation_box_);
  min_p_->setRange(0, 1);
  min_p_->setSingleStep(0.01);
  repeat_penalty_ = new QDoubleSpinBox(generation_box_);
  repeat_penalty_->setRange(0.01, 10);
  repeat_penalty_->setSingleStep(0.05);
  seed_ = new QSpinBox(generation_box_);
  seed_->setRange(0, std::numeric_limits<int>::max());
  for (QWidget* w :
       {static_cast<QWidget*>(max_tokens_), static_cast<QWidget*>(temperature_),
        static_cast<QWidget*>(top_k_), static_cast<QWidget*>(top_p_), static_cast<QWidget*>(min_p_),
        static_cast<QWidget*>(repeat_penalty_), static_cast<QWidget*>(seed_)}) {
    generation_form_->addRow(QString(), w);
  }
}

void SettingsPanel::buildCacheBox(QWidget* body) {
  cache_box_ = new QGroupBox(body);
  cache_form_ = new QFormLayout(cache_box_);
  offload_ = new QCheckBox(cache_box_);
  offload_->setObjectName("offload");
  budget_slider_ = new QSlider(Qt::Horizontal, cache_box_);
  budget_slider_->setRange(1, 100);
  budget_ = new QSpinBox(cache_box_);
  budget_->setObjectName("budgetPercent");
  budget_->setRange(1, 100);
  budget_->setSuffix(" %");
  auto* budget_row = new QWidget(cache_box_);
  auto* budget_layout = new QHBoxLayout(budget_row);
  budget_layout->setContentsMargins(0, 0, 0, 0);
  budget_layout->addWidget(budget_slider_, 1);
  budget_layout->addWidget(budget_);
  budget_info_ = new QLabel(cache_box_);
  budget_info_->setObjectName("budgetInfo");
  policy_ = combo(live_policies(), "policy", cache_box_);
  add_disabled(policy_, history_policies());
  prefetcher_ = combo(prefetcher_choices(), "prefetcher", cache_box_);
  add_disabled(prefetcher_, fitted_prefetchers());
  link_ = combo(link_choices(), "link", cache_box_);
  allocator_ = combo(allocator_choices(), "allocator", cache_box_);
  cache_form_->addRow(offload_);
  cache_form_->addRow(QString(), budget_row);
  cache_form_->addRow(QString(), budget_info_);
  cache_form_->addRow(QString(), policy_);
  cache_form_->addRow(QString(), prefetcher_);
  cache_form_->addRow(QString(), link_);
  cache_form_->addRow(QString(), allocator_);
}

void SettingsPanel::buildCompareBox(QWidget* body) {
  compare_box_ = new QGroupBox(body);
  auto* compare_layout = new QVBoxLayout(compare_box_);
  compare_ = new QListWidget(compare_box_);
  compare_->setObjectName("comparePolicies");
  for (const QString& p : comparable_policies()) {
    auto* item = new QListWidgetItem(p, compare_);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(Qt::Unchecked);
  }
  // Every policy shows: the panel scrolls as a whole, not a list inside it.
  compare_->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  compare_->setMinimumHeight(compare_->sizeHintForRow(0) * compare_->count() +
                             2 * compare_->frameWidth() + 2);
  bounds_ = new QCheckBox(compare_box_);
  bounds_->setObjectName("bounds");
  sch_window_ = new QSpinBox(compare_box_);
  sch_window_->setRange(1, 4096);
  sch_label_ = new QLabel(compare_box_);
  auto* sch_row = new QHBoxLayout;
  sch_row->addWidget(sch_label_);
  sch_row->addWidget(sch_window_);
  compare_layout->addWidget(compare_);
  compare_layout->addWidget(bounds_);
  compare_layout->addLayout(sch_row);
}

void SettingsPanel::buildLossyBox(QWidget* body) {
  lossy_box_ = new QGroupBox(body);
  lossy_box_->setObjectName("lossyGating");
  auto* lossy_layout = new QFormLayout(lossy_box_);
  lossy_note_ = new QLabel(lossy_box_);
  lossy_note_->setWordWrap(true);
  adaptive_top_k_ = new QCheckBox(lossy_box_);
  adaptive_top_k_->setObjectName("adaptiveTopK");
  adaptive_threshold_ = new QDoubleSpinBox(lossy_box_);
  adaptive_threshold_->setRange(0.01, 0.99);
  adaptive_threshold_->setSingleStep(0.05);
  substitution_ = new QCheckBox(lossy_box_);
  substitution_->setObjectName("substitution");
  substitute_eps_ = new QDoubleSpinBox(lossy_box_);
  substitute_eps_->setDecimals(3);
  substitute_eps_->setRange(0, 1);
  substitute_eps_->setSingleStep(0.01);
  lossy_layout->addRow(lossy_note_);
  // The value under its switch, so that the long labels do not widen the panel.
  lossy_layout->addRow(adaptive_top_k_);
  lossy_layout->addRow(QString(), adaptive_threshold_);
  lossy_layout->addRow(substitution_);
  lossy_layout->addRow(QString(), substitute_eps_);
}

void SettingsPanel::buildRecordBox(QWidget* body) {
  record_box_ = new QGroupBox(body);
  auto* record_layout = new QVBoxLayout(record_box_);
  record_ = new QCheckBox(record_box_);
  record_->setObjectName("recordTrace");
  auto* path_row = new QHBoxLayout;
  record_path_ = new QLineEdit(record_box_);
  record_path_->setObjectName("recordPath");
  record_choose_ = new QPushButton(record_box_);
  path_row->addWidget(record_path_, 1);
  path_row->addWidget(record_choose_);
  record_error_ = new QLabel(record_box_);
  record_error_->setObjectName("recordError");
  record_error_->setWordWrap(true);
  record_error_->setStyleSheet("color: #d62728;");  // red in both themes
  record_error_->hide();
  record_layout->addWidget(record_);
  record_layout->addLayout(path_row);
  record_layout->addWidget(record_error_);
}

// Every edit goes to the session at once.
void SettingsPanel::connectEdits() {
  auto changed = [this] { push(); };
  connect(max_tokens_, &QSpinBox::valueChanged, this, changed);
  connect(temperature_, &QDoubleSpinBox::valueChanged, this, changed);
  connect(top_k_, &QSpinBox::valueChanged, this, changed);
  connect(top_p_, &QDoubleSpinBox::valueChanged, this, changed);
  connect(min_p_, &QDoubleSpinBox::valueChanged, this, changed);
  connect(repeat_penalty_, &QDoubleSpinBox::valueChanged, this, changed);
  connect(seed_, &QSpinBox::valueChanged, this, changed);
  connect(offload_, &QCheckBox::toggled, this, changed);
  connect(budget_slider_, &QSlider::valueChanged, budget_, &QSpinBox::setValue);
  connect(budget_, &QSpinBox::valueChanged, budget_slider_, &QSlider::setValue);
  connect(budget_, &QSpinBox::valueChanged, this, changed);
  for (QComboBox* c : {policy_, prefetcher_, link_, allocator_}) {
    connect(c, &QComboBox::currentIndexChanged, this, changed);
  }
  connect(compare_, &QListWidget::itemChanged, this, changed);
  connect(bounds_, &QCheckBox::toggled, this, changed);
  connect(sch_window_, &QSpinBox::valueChanged, this, changed);
  connect(adaptive_top_k_, &QCheckBox::toggled, this, changed);
  connect(adaptive_top_k_, &QCheckBox::toggled, adaptive_threshold_, &QWidget::setEnabled);
  connect(substitution_, &QCheckBox::toggled, substitute_eps_, &QWidget::setEnabled);
  adaptive_threshold_->setEnabled(false);
  substitute_eps_->setEnabled(false);
  connect(adaptive_threshold_, &QDoubleSpinBox::valueChanged, this, changed);
  connect(substitution_, &QCheckBox::toggled, this, changed);
  connect(substitute_eps_, &QDoubleSpinBox::valueChanged, this, changed);
}

void SettingsPanel::connectRecording() {
  auto changed = [this] { push(); };
  // Recording needs a file: refuse the switch without one, and say so where the user looks.
  connect(record_, &QCheckBox::toggled, this, [this](bool on) {
    if (pulling_) return;
    if (on && record_path_->text().trimmed().isEmpty()) {
      const QSignalBlocker block(record_);
      record_->setChecked(false);
      record_error_->setText(tr("Choose a trace file first (type a path or use Choose…)"));
      record_error_->show();
      record_path_->setFocus();
      return;
    }
    record_error_->hide();
    push();
  });
  connect(record_path_, &QLineEdit::textChanged, record_error_, &QWidget::hide);
  connect(record_path_, &QLineEdit::editingFinished, this, changed);
  connect(record_choose_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Record runs into a trace"), record_path_->text(),
        tr("MoEScope traces (*.sqlite)"), nullptr, QFileDialog::DontConfirmOverwrite);
    if (path.isEmpty()) return;
    record_path_->setText(path);
    record_->setChecked(true);
    push();
  });
}

void SettingsPanel::retranslate() {
  recorded_box_->setTitle(tr("Recorded with the trace (read-only)"));
  use_recorded_->setText(tr("Use these settings"));
  use_recorded_->setToolTip(
      tr("Copy the trace's recorded cache settings into your settings; the next run uses them"));
  updateRecorded();
  generation_box_->setTitle(tr("Generation"));
  const QStringList gen_labels = {
      tr("Max new tokens"), tr("Temperature"),    tr("Top-k"), tr("Top-p"),
      tr("Min-p"),          tr("Repeat penalty"), tr("Seed")};
  for (int i = 0; i < gen_labels.size(); ++i) {
    if (auto* item = generation_form_->itemAt(i, QFormLayout::LabelRole)) {
      if (auto* label = qobject_cast<QLabel*>(item->widget())) label->setText(gen_labels[i]);
    } else {
      generation_form_->setWidget(i, QFormLayout::LabelRole, new QLabel(gen_labels[i]));
    }
  }
  max_tokens_->setSpecialValueText(tr("until the end"));
  temperature_->setSpecialValueText(tr("greedy"));
  top_k_->setSpecialValueText(tr("all"));

  cache_box_->setTitle(tr("Expert cache"));
  offload_->setText(tr("Offload experts (real expert store)"));
  offload_->setToolTip(
      tr("On: experts are really loaded into a bounded cache and the forward "
         "pass waits for them. Off: experts stay mapped and every policy is "
         "simulated on the routing."));
  const QStringList cache_labels = {QString(),        tr("Budget"), QString(),      tr("Policy"),
                                    tr("Prefetcher"), tr("Link"),   tr("Allocator")};
  for (int i = 1; i < cache_labels.size(); ++i) {
    if (cache_labels[i].isEmpty()) continue;
    if (auto* item = cache_form_->itemAt(i, QFormLayout::LabelRole)) {
      if (auto* label = qobject_cast<QLabel*>(item->widget())) label->setText(cache_labels[i]);
    } else {
      cache_form_->setWidget(i, QFormLayout::LabelRole, new QLabel(cache_labels[i]));
    }
  }
  budget_->setToolTip(tr("Share of the model's routed experts the cache may hold"));
  link_->setToolTip(tr("Emulated link between the slow tier and the cache; loads are paced to it"));
  retranslateChoices();

  compare_box_->setTitle(tr("Compare policies"));
  compare_->setToolTip(tr("Policies simulated on the same access stream and budget"));
  const QSignalBlocker block_compare(compare_);
  for (int i = 0; i < compare_->count(); ++i) {
    QListWidgetItem* item = compare_->item(i);
    const QString spec = item->data(Qt::UserRole).toString().isEmpty()
                             ? item->text()
                             : item->data(Qt::UserRole).toString();
    item->setData(Qt::UserRole, spec);
    item->setText(is_oracle_policy(spec) ? tr("%1 (oracle)").arg(spec) : spec);
  }
  bounds_->setText(tr("Show the oracle references (belady-bypass, SCH)"));
  sch_label_->setText(tr("SCH window (tokens)"));

  lossy_box_->setTitle(tr("Lossy gating variants (change the output)"));
  lossy_note_->setText(
      tr("Lossy: these variants change which experts compute, so the text "
         "differs from the exact model. They act on the real expert store "
         "(offloading on)."));
  adaptive_top_k_->setText(tr("Adaptive top-k (lossy), threshold"));
  adaptive_top_k_->setToolTip(
      tr("Drop a token's trailing expert while its renormalised weight "
         "is below the threshold (AdapMoE)"));
  substitution_->setText(tr("Cache-aware substitution (lossy), ε"));
  substitution_->setToolTip(
      tr("Replace a missed expert by the most probable resident one whose "
         "router probability is within ε of it"));
  record_box_->setTitle(tr("Recording"));
  record_->setText(tr("Record every run into a trace"));
  record_path_->setPlaceholderText(tr("trace file (.sqlite)"));
  record_choose_->setText(tr("Choose…"));
  updateBudgetLabel();
}

void SettingsPanel::retranslateChoices() {
  const QHash<QString, QString> prefetchers = {
      {"none", tr("No prefetching: experts are loaded when a layer asks for them")},
      {"same-prev", tr("Prefetch the experts this layer used for the previous token")},
      {"affinity",
       tr("Learns online which experts follow which in the next layer and prefetches the most "
          "likely ones")},
      {"affinity:0:2", tr("Affinity, predicting two layers ahead")},
      {"freq", tr("Prefetch the target layer's most used experts of the last 64 tokens")},
      {"next-gate",
       tr("Next-gate speculation: the engine applies the next layer's router to the current "
          "hidden state. Its predictions are recorded while generating, so choose it before "
          "you generate")},
      {"next-gate:2", tr("Next-gate speculation two layers ahead")},
      {"affinity-fit",
       tr("Unavailable: affinity tables fitted on an earlier routing trace and frozen. A live "
          "run has no earlier trace to fit on")},
      {"path", tr("Unavailable: the ExpertFlow-style path predictor is fitted on earlier routing "
                  "traces. A live run has no earlier trace to fit on")},
  };
  for (int i = 0; i < prefetcher_->count(); ++i) {
    // A prefetcher without a text of its own here says the registry's summary.
    const QString name = prefetcher_->itemText(i);
    prefetcher_->setItemData(i, prefetchers.value(name, registry_summary(name)), Qt::ToolTipRole);
  }
  // The engine's rules (engine/policy/registry.cpp), per layer unless said otherwise; a policy
  // without a text here says the registry's summary.
  const QHash<QString, QString> policies = {
      {"lru", tr("Least recently used: evicts the expert whose last use is oldest")},
      {"lfu", tr("Least frequently used: evicts the expert used least often, counts aging")},
      {"fifo", tr("First in, first out: evicts the expert loaded longest ago")},
      {"random", tr("Evicts a uniformly random resident expert")},
      {"arc", tr("Adaptive replacement cache: balances a recency and a frequency list")},
      {"least-stale",
       tr("One pool: first evicts experts of layers that already ran for the current token "
          "(least recently used among them), else the least recently used")},
      {"lookahead",
       tr("One pool: least recently used, but never evicts experts of the next 3 layers")},
      {"static-front",
       tr("One pool: pins whole layers from the first, as many as fit; the rest load on demand")},
      {"static-back",
       tr("One pool: pins whole layers from the last, as many as fit; the rest load on demand")},
      {"on-demand", tr("Nothing cached: every use loads the expert and drops it")},
  };

  for (int i = 0; i < policy_->count(); ++i) {
    const QString name = policy_->itemText(i);
    const QString base = name.endsWith("-global") ? name.chopped(7) : name;
    const QString rule = policies.value(base, registry_summary(base));
    if (!rule.isEmpty()) {
      policy_->setItemData(
          i, name.endsWith("-global") ? tr("%1. Global: one pool for all layers").arg(rule) : rule,
          Qt::ToolTipRole);
    }
    if (history_policies().contains(policy_->itemText(i))) {
      policy_->setItemData(i,
                           tr("Unavailable: pins the most routed experts of an earlier "
                              "routing trace. A live run has no earlier trace to count from"),
                           Qt::ToolTipRole);
    }
  }
  for (int i = 0; i < link_->count(); ++i) {
    try {
      const policy::LinkModel link = policy::LinkModel::preset(link_->itemText(i).toStdString());
      link_->setItemData(
          i,
          link.unlimited()
              ? tr("No emulated link: loads take no modelled time")
              : tr("%1/s, %2 latency per load")
                    .arg(format_bytes(uint64_t(link.bandwidth_bytes_per_s)),
                         format_duration_ns(link.latency_ns)),
          Qt::ToolTipRole);
    } catch (const std::exception&) {
      // Not a preset: no description.
    }
  }
  prefetcher_->setToolTip(
      tr("Predicts the experts of a later layer and loads them ahead. Greyed-out entries need a "
         "trace to fit on first; hover an entry for what it does"));
}

void SettingsPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void SettingsPanel::pull() {
  if (pulling_) return;
  pulling_ = true;
  const RunSettings& s = session_->settings();
  const SamplingParams& sp = s.generation.sampling;
  max_tokens_->setValue(s.generation.max_new_tokens);
  temperature_->setValue(sp.temperature);
  top_k_->setValue(sp.top_k);
  top_p_->setValue(sp.top_p);
  min_p_->setValue(sp.min_p);
  repeat_penalty_->setValue(sp.repeat_penalty);
  seed_->setValue(int(std::min<uint64_t>(sp.seed, uint64_t(std::numeric_limits<int>::max()))));
  const CacheSettings& c = s.cache;
  offload_->setChecked(c.offload);
  budget_->setValue(c.budget_percent);
  select(policy_, c.policy);
  select(prefetcher_, c.prefetcher);
  select(link_, c.link);
  select(allocator_, c.allocator);
  for (int i = 0; i < compare_->count(); ++i) {
    QListWidgetItem* item = compare_->item(i);
    item->setCheckState(c.compare.contains(item->data(Qt::UserRole).toString()) ? Qt::Checked
                                                                                : Qt::Unchecked);
  }
  bounds_->setChecked(c.bounds);
  sch_window_->setValue(c.sch_window);
  adaptive_top_k_->setChecked(c.adaptive_top_k);
  adaptive_threshold_->setValue(c.adaptive_threshold);
  substitution_->setChecked(c.cache_aware_substitution);
  substitute_eps_->setValue(c.substitute_eps);
  if (!s.trace_path.isEmpty()) record_path_->setText(s.trace_path);
  record_->setChecked(!s.trace_path.isEmpty());
  lossy_box_->setEnabled(c.offload);
  updateBudgetLabel();
  updateRecorded();
  pulling_ = false;
}

void SettingsPanel::push() {
  if (pulling_) return;
  RunSettings s = session_->settings();
  SamplingParams& sp = s.generation.sampling;
  s.generation.max_new_tokens = max_tokens_->value();
  sp.temperature = float(temperature_->value());
  sp.top_k = top_k_->value();
  sp.top_p = float(top_p_->value());
  sp.min_p = float(min_p_->value());
  sp.repeat_penalty = float(repeat_penalty_->value());
  sp.seed = uint64_t(seed_->value());
  CacheSettings& c = s.cache;
  c.offload = offload_->isChecked();
  c.budget_percent = budget_->value();
  c.policy = policy_->currentText();
  c.prefetcher = prefetcher_->currentText();
  c.link = link_->currentText();
  c.allocator = allocator_->currentText();
  c.compare.clear();
  for (int i = 0; i < compare_->count(); ++i) {
    if (compare_->item(i)->checkState() == Qt::Checked) {
      c.compare << compare_->item(i)->data(Qt::UserRole).toString();
    }
  }
  c.bounds = bounds_->isChecked();
  c.sch_window = sch_window_->value();
  c.adaptive_top_k = adaptive_top_k_->isChecked();
  c.adaptive_threshold = adaptive_threshold_->value();
  c.cache_aware_substitution = substitution_->isChecked();
  c.substitute_eps = substitute_eps_->value();
  lossy_box_->setEnabled(c.offload);
  s.trace_path = record_->isChecked() ? record_path_->text().trimmed() : QString();
  pulling_ = true;  // the session echoes settingsChanged
  session_->setSettings(s);
  pulling_ = false;
  updateBudgetLabel();
  updateRecorded();
}

void SettingsPanel::updateContextLimit() {
  const LoadedModel* m = session_->model();
  if (!m || !m->model) return;
  const int n_ctx = m->model->n_ctx();
  max_tokens_->setMaximum(std::max(1, n_ctx));  // a larger value clamps, and is pushed
  max_tokens_->setToolTip(
      tr("At most the context, %1 tokens, less the prompt; \"until the end\" stops at the end "
         "of generation or a full context")
          .arg(n_ctx));
}

void SettingsPanel::updateBudgetLabel() {
  const LoadedModel* m = session_->model();
  if (!m) {
    budget_info_->setText(tr("Open a model to see the budget in experts and bytes"));
    return;
  }
  const CacheSettings& c = session_->settings().cache;
  budget_info_->setText(tr("%1 of %2 experts, about %3")
                            .arg(budget_slots(c, m->shape))
                            .arg(m->shape.total_experts())
                            .arg(format_bytes(budget_bytes(c, m->shape))));
}

}  // namespace moescope::views
