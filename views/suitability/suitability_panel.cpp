#include "views/suitability/suitability_panel.h"

#include <QEvent>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include "views/common/background.h"
#include "views/common/view_export.h"
#include "views/session/analysis.h"
#include "views/session/session_controller.h"
#include "views/suitability/run_suitability.h"
#include "views/suitability/suitability_model.h"

namespace moescope::views {
namespace {

QString percent(double share) {
  return SuitabilityPanel::tr("%1 %").arg(QLocale().toString(100 * share, 'f', 1));
}

QString milliseconds(double ns) {
  return SuitabilityPanel::tr("%1 ms").arg(QLocale().toString(ns / 1e6, 'f', 3));
}

QString origin_text(policy::ComputeOrigin origin) {
  switch (origin) {
    case policy::ComputeOrigin::kGiven:
      return SuitabilityPanel::tr("given");
    case policy::ComputeOrigin::kMeasured:
      return SuitabilityPanel::tr("measured");
    case policy::ComputeOrigin::kAssumed:
      return SuitabilityPanel::tr("assumed: the run has no measured compute");
  }
  return {};
}

// The verdict in the interface language, from the same numbers as the engine's English text.
QString verdict_text(const policy::Suitability& s) {
  const QString link = QString::fromStdString(s.link_name);
  const QString h = percent(s.break_even.hit_rate);
  const policy::CapacityPoint& k1 = s.capacities[0];
  const policy::CapacityPoint& k2 = s.capacities[1];
  switch (s.verdict) {
    case policy::Verdict::kLinkNotBottleneck:
      return SuitabilityPanel::tr(
                 "Well suited on %1: loading every routed expert takes no longer than computing, "
                 "even without a cache.")
          .arg(link);
    case policy::Verdict::kWellSuited: {
      const policy::CapacityPoint& at = k1.lru >= s.break_even.hit_rate ? k1 : k2;
      return SuitabilityPanel::tr(
                 "Well suited on %1: with %2 slots per layer (%3k) LRU reaches %4 hits, above the "
                 "%5 break-even.")
          .arg(link)
          .arg(at.slots.front())
          .arg(at.multiple)
          .arg(percent(at.lru), h);
    }
    case policy::Verdict::kNeedsBetterPolicy:
      return SuitabilityPanel::tr(
                 "Suited only with a better policy or prefetcher on %1: at 2k LRU reaches %2 hits, "
                 "below the %3 break-even; OPT (demand MIN) reaches %4.")
          .arg(link, percent(k2.lru), h, percent(k2.opt));
    case policy::Verdict::kNeedsLargeCache:
      return SuitabilityPanel::tr(
                 "Poorly suited on %1: at 2k even OPT (demand MIN) stays below the %2 break-even; LRU needs "
                 "%3 of %4 slots per layer.")
          .arg(link, h)
          .arg(s.lru_slots_to_break_even.value_or(0))
          .arg(s.max_experts);
    case policy::Verdict::kUnsuited:
      return SuitabilityPanel::tr(
                 "Unsuited on %1: only keeping (nearly) every expert resident reaches the %2 "
                 "break-even.")
          .arg(link, h);
  }
  return {};
}

}  // namespace

SuitabilityPanel::SuitabilityPanel(SessionController* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  setObjectName("SuitabilityPanel");
  model_ = new SuitabilityModel(this);
  verdict_ = new QLabel(this);
  verdict_->setObjectName("suitabilityVerdict");
  verdict_->setWordWrap(true);
  verdict_->setTextFormat(Qt::PlainText);
  QFont bold = verdict_->font();
  bold.setBold(true);
  verdict_->setFont(bold);
  table_ = new QTableView(this);
  table_->setObjectName("suitabilityTable");
  table_->setModel(model_);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->verticalHeader()->hide();
  table_->setSelectionMode(QAbstractItemView::NoSelection);
  new ViewExport(
      table_, [this] { return table_from_model(*model_); }, "suitability", this);
  details_ = new QLabel(this);
  details_->setObjectName("suitabilityDetails");
  details_->setWordWrap(true);
  details_->setTextFormat(Qt::PlainText);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(verdict_);
  layout->addWidget(table_, 1);
  layout->addWidget(details_);
  retry_ = new QTimer(this);
  retry_->setSingleShot(true);
  connect(retry_, &QTimer::timeout, this, &SuitabilityPanel::schedule);
  connect(session_, &SessionController::analysisUpdated, this, &SuitabilityPanel::schedule);
  connect(session_, &SessionController::runStarted, this, [this] {
    ++epoch_;
    retry_->stop();
    since_start_.invalidate();
    current_.reset();
    refresh();
  });
  retranslate();
  schedule();
}

void SuitabilityPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void SuitabilityPanel::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  schedule();
}

void SuitabilityPanel::retranslate() {
  setWindowTitle(tr("Suitability"));
  model_->retranslate();
  refresh();
}

void SuitabilityPanel::schedule() {
  const RunData& run = session_->run();
  const auto& analysis = run.analysis();
  if (!analysis || !analysis->complete() || run.routed_count() == 0 || wait_until_shown(this))
    return;
  const Key key{epoch_, run.routed_count(), analysis->settings.link};
  if (key == shown_) return;
  if (busy_) {
    again_ = true;
    return;
  }
  const bool live = session_->state() == SessionController::State::kGenerating ||
                    session_->state() == SessionController::State::kStopping;
  if (live && since_start_.isValid() && since_start_.elapsed() < kLiveIntervalMs) {
    if (!retry_->isActive()) retry_->start(int(kLiveIntervalMs - since_start_.elapsed()));
    return;
  }
  retry_->stop();
  busy_ = true;
  since_start_.restart();
  struct Done {
    Key key;
    std::shared_ptr<const policy::Suitability> result;
  };
  run_in_background<Done>(
      this,
      [key, trace = run.routing_trace_with_compute()]() mutable {
        Done d{key, nullptr};
        try {
          trace.validate();
          d.result = run_suitability(trace, key.link);
        } catch (const std::exception&) {
          // A routing the policy engine rejects has no suitability; the panel shows none.
        }
        return d;
      },
      [this](Done d) {
        busy_ = false;
        if (d.key.epoch == epoch_) {
          current_ = std::move(d.result);
          shown_ = d.key;
          refresh();
        }
        if (again_) {
          again_ = false;
          schedule();
        }
      });
}

void SuitabilityPanel::refresh() {
  const std::shared_ptr<const policy::Suitability>& s = current_;
  if (s.get() != model_->suitability()) model_->setSuitability(s);
  if (!s) {
    verdict_->setText(tr("No suitability analysis yet: generate text or open a trace."));
    details_->clear();
    return;
  }
  verdict_->setText(verdict_text(*s));
  const policy::BreakEven& b = s->break_even;
  QString details =
      tr("Break-even hit rate on %1: h* = 1 - C / L = %2, with C = %3 of compute per token (%4) "
         "and L = %5 to load all its routed experts.")
          .arg(QString::fromStdString(s->link_name), percent(b.hit_rate),
               milliseconds(b.compute_ns_per_token), origin_text(b.compute_origin),
               milliseconds(b.link_ns_per_token));
  details += QLatin1Char(' ');
  details +=
      tr("Smallest cache reaching it: LRU %1, OPT %2 (of %3 experts per layer).")
          .arg(s->lru_slots_to_break_even ? QString::number(*s->lru_slots_to_break_even)
                                          : tr("never"),
               s->opt_slots_to_break_even ? QString::number(*s->opt_slots_to_break_even)
                                          : tr("never"))
          .arg(s->max_experts);
  details += QLatin1Char(' ');
  details += tr("SRP(m) (model level, Liang et al. 2025): best F1 of predicting, for every "
                "segment of m tokens, the experts it routes to at least j times (floor 2k/(n+k): "
                "%1). SCH(m): the cache that evicts the expert least used in the segment [t, t+m); "
                "the table's hit rates use one pool of k (2k) slots per layer in total, and OPT "
                "(demand MIN) bounds LRU and SCH there. %2 tokens, replayed one by one.")
                 .arg(QLocale().toString(s->uniform_srp, 'f', 3))
                 .arg(s->tokens);
  details_->setText(details);
}

}  // namespace moescope::views
