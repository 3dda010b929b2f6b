#include "views/traces/trace_panel.h"

#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <optional>

#include "views/common/background.h"
#include "views/common/model_texts.h"
#include "views/common/view_export.h"
#include "views/session/session_controller.h"
#include "views/traces/run_compare_model.h"
#include "views/traces/run_list_model.h"

namespace moescope::views {

TracePanel::TracePanel(SessionController* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  auto* top = new QHBoxLayout;
  open_ = new QPushButton(this);
  open_->setObjectName("openTraceButton");
  file_ = new QLabel(this);
  file_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  top->addWidget(open_);
  top->addWidget(file_, 1);
  layout->addLayout(top);

  auto* splitter = new QSplitter(Qt::Vertical, this);
  auto* upper = new QWidget(splitter);
  auto* upper_layout = new QVBoxLayout(upper);
  upper_layout->setContentsMargins(0, 0, 0, 0);
  runs_ = new RunListModel(this);
  runs_view_ = new QTableView(upper);
  runs_view_->setObjectName("traceRuns");
  runs_view_->setModel(runs_);
  runs_view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  runs_view_->verticalHeader()->hide();
  runs_view_->horizontalHeader()->setStretchLastSection(true);
  auto* buttons = new QHBoxLayout;
  show_ = new QPushButton(upper);
  compare_button_ = new QPushButton(upper);
  buttons->addWidget(show_);
  buttons->addWidget(compare_button_);
  buttons->addStretch(1);
  upper_layout->addWidget(runs_view_, 1);
  upper_layout->addLayout(buttons);
  auto* lower = new QWidget(splitter);
  auto* lower_layout = new QVBoxLayout(lower);
  lower_layout->setContentsMargins(0, 0, 0, 0);
  summary_ = new QLabel(lower);
  summary_->setObjectName("compareSummary");
  summary_->setWordWrap(true);
  compare_ = new RunCompareModel(this);
  compare_view_ = new QTableView(lower);
  compare_view_->setObjectName("runComparison");
  compare_view_->setModel(compare_);
  compare_view_->verticalHeader()->hide();
  compare_view_->horizontalHeader()->setStretchLastSection(true);
  new ViewExport(
      runs_view_, [this] { return table_from_model(*runs_); }, "runs");
  new ViewExport(
      compare_view_, [this] { return table_from_model(*compare_); }, "comparison");
  lower_layout->addWidget(summary_);
  lower_layout->addWidget(compare_view_, 1);
  splitter->addWidget(upper);
  splitter->addWidget(lower);
  layout->addWidget(splitter, 1);

  connect(open_, &QPushButton::clicked, this, &TracePanel::chooseTrace);
  connect(runs_view_, &QTableView::doubleClicked, this,
          [this](const QModelIndex& index) { showRun(index.row()); });
  connect(show_, &QPushButton::clicked, this, [this] {
    const auto rows = runs_view_->selectionModel()->selectedRows();
    if (!rows.isEmpty()) showRun(rows.first().row());
  });
  connect(compare_button_, &QPushButton::clicked, this, [this] {
    const auto rows = runs_view_->selectionModel()->selectedRows();
    if (rows.size() == 2) compareRuns(rows[0].row(), rows[1].row());
  });
  connect(runs_view_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &TracePanel::updateButtons);
  connect(session_, &SessionController::traceFailed, this,
          [this](const QString& path, const QString& error) {
            file_->setText(tr("Could not open %1: %2").arg(QFileInfo(path).fileName(), error));
          });
  connect(session_, &SessionController::traceOpened, this, [this](const QString& path, qint64 run) {
    QString text = tr("%1: showing run %2").arg(QFileInfo(path).fileName()).arg(run);
    if (session_->trace_from_other_model()) {
      text += "\n" + tr("Recorded with %1, not the loaded model: the views show the trace as "
                         "recorded; Generate runs the loaded model.")
                          .arg(session_->trace_model());
    }
    file_->setText(text);
  });
  // A run recorded into the open trace joins its list.
  connect(session_, &SessionController::runFinished, this, [this] {
    if (!path_.isEmpty() && session_->trace_path().isEmpty() &&
        QFileInfo(session_->settings().trace_path) == QFileInfo(path_)) {
      refreshRuns();
    }
  });
  retranslate();
  updateButtons();
}

void TracePanel::chooseTrace() {
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open a trace"), QString(), tr("MoEScope traces (*.sqlite);;All files (*)"));
  if (!path.isEmpty()) openTrace(path);
}

void TracePanel::refreshRuns() {
  if (path_.isEmpty()) return;
  const QString path = path_;
  run_in_background<std::optional<std::vector<storage::RunSummary>>>(
      this,
      [path]() -> std::optional<std::vector<storage::RunSummary>> {
        try {
          return list_trace_runs(path.toStdString());
        } catch (const std::exception&) {
          return std::nullopt;  // the recorder may hold it: the list stays as it was
        }
      },
      [this, path](std::optional<std::vector<storage::RunSummary>> runs) {
        if (path != path_ || !runs) return;
        runs_->setRuns(std::move(*runs));
        runs_view_->resizeColumnsToContents();
        Q_EMIT runsListed();
      });
}

void TracePanel::openTrace(const QString& path) {
  Q_EMIT opening(path);
  path_ = path;
  // Nothing of the previous trace stays: its comparison belongs to other runs.
  compare_->setComparison({});
  summary_->setText(tr("Select two runs and compare them."));
  file_->setText(tr("Reading %1 …").arg(QFileInfo(path).fileName()));
  struct Result {
    std::optional<std::vector<storage::RunSummary>> runs;
    QString error;
  };
  run_in_background<Result>(
      this,
      [path] {
        Result r;
        try {
          r.runs = list_trace_runs(path.toStdString());
        } catch (const std::exception& e) {
          r.error = QString::fromUtf8(e.what());
        }
        return r;
      },
      [this, path](Result r) {
        if (path != path_) return;
        if (!r.runs) {
          runs_->setRuns({});
          file_->setText(tr("Could not open %1: %2").arg(QFileInfo(path).fileName(), r.error));
          Q_EMIT openFailed(path, r.error);
          return;
        }
        runs_->setRuns(std::move(*r.runs));
        runs_view_->resizeColumnsToContents();
        Q_EMIT runsListed();
        if (runs_->rowCount() > 0) {
          runs_view_->selectRow(runs_->rowCount() - 1);
          session_->openTrace(path_, runs_->runId(runs_->rowCount() - 1));
        } else {
          file_->setText(tr("%1 holds no runs").arg(QFileInfo(path).fileName()));
          Q_EMIT openFailed(path, tr("it holds no runs"));
        }
      });
}

void TracePanel::showRun(int row) {
  if (row < 0 || row >= runs_->rowCount()) return;
  session_->openTrace(path_, runs_->runId(row));
}

void TracePanel::compareRuns(int row_a, int row_b) {
  if (row_a < 0 || row_b < 0 || row_a >= runs_->rowCount() || row_b >= runs_->rowCount()) return;
  const int64_t a = runs_->runId(std::min(row_a, row_b));
  const int64_t b = runs_->runId(std::max(row_a, row_b));
  summary_->setText(tr("Comparing runs %1 and %2 …").arg(a).arg(b));
  struct Result {
    std::optional<RunComparison> comparison;
    QString error;
  };
  const QString path = path_;
  run_in_background<Result>(
      this,
      [path, a, b, model = session_->shared_model()] {
        Result r;
        try {
          r.comparison = compare_trace_runs(path.toStdString(), a, b, model.get());
        } catch (const std::exception& e) {
          r.error = QString::fromUtf8(e.what());
        }
        return r;
      },
      [this](Result r) {
        if (!r.comparison) {
          summary_->setText(tr("Cannot compare: %1").arg(r.error));
          return;
        }
        const RunComparison& c = *r.comparison;
        QString text =
            c.first_divergent_token < 0
                ? tr("Runs %1 and %2 produced the same tokens.").arg(c.run_a).arg(c.run_b)
                : tr("Runs %1 and %2 first differ at token %3.")
                      .arg(c.run_a)
                      .arg(c.run_b)
                      .arg(c.first_divergent_token);
        text += " ";
        text += c.first_divergent_routing < 0
                    ? tr("Their routing agrees wherever both were routed.")
                    : tr("Routing first differs at token %1.").arg(c.first_divergent_routing);
        summary_->setText(text);
        const int divergent = r.comparison->first_divergent_token;
        compare_->setComparison(std::move(*r.comparison));
        // Straight to where the runs part.
        if (divergent >= 0) {
          compare_view_->selectRow(divergent);
          compare_view_->scrollTo(compare_->index(divergent, 0), QAbstractItemView::PositionAtTop);
        }
        // Headers and the first rows decide the widths (QHeaderView samples, it does not read
        // a 100k-token comparison whole).
        compare_view_->resizeColumnsToContents();
        Q_EMIT comparisonReady();
      });
}

void TracePanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void TracePanel::retranslate() {
  open_->setText(tr("Open trace…"));
  open_->setToolTip(tr("Open a trace recorded with `moescope record` or by this window"));
  if (path_.isEmpty()) file_->setText(tr("No trace open"));
  show_->setText(tr("Show run"));
  show_->setToolTip(tr("Show the selected run in every view (or double-click it)"));
  compare_button_->setText(tr("Compare two runs"));
  compare_button_->setToolTip(tr("Select two runs to align them token by token"));
  if (compare_->rowCount() == 0) summary_->setText(tr("Select two runs and compare them."));
  retranslate_model(*runs_);
  retranslate_model(*compare_);
  runs_view_->resizeColumnsToContents();
  compare_view_->resizeColumnsToContents();
}

void TracePanel::updateButtons() {
  const int n = runs_view_->selectionModel()->selectedRows().size();
  show_->setEnabled(n >= 1);
  compare_button_->setEnabled(n == 2);
}

}  // namespace moescope::views
