#include "views/devices/devices_panel.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "views/common/background.h"
#include "views/devices/device_grid_view.h"
#include "views/session/run_data.h"
#include "views/session/session_controller.h"

namespace moescope::views {
namespace {

QString fixed(double v, int decimals) {
  return std::isfinite(v) ? QLocale().toString(v, 'f', decimals) : QStringLiteral("-");
}

QSpinBox* spin_box(QWidget* parent, const char* name, int lo, int hi, int value) {
  auto* box = new QSpinBox(parent);
  box->setObjectName(name);
  box->setRange(lo, hi);
  box->setValue(value);
  return box;
}

}  // namespace

DevicesPanel::DevicesPanel(SessionController* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  setObjectName("DevicesPanel");
  devices_ = spin_box(this, "devicesDevices", 1, 256, 4);
  nodes_ = spin_box(this, "devicesNodes", 1, 64, 1);
  redundant_ = spin_box(this, "devicesRedundant", 0, 1024, 0);
  status_ = new QLabel(this);
  status_->setObjectName("devicesStatus");
  status_->setWordWrap(true);
  status_->setTextFormat(Qt::PlainText);
  table_ = new QTableWidget(this);
  table_->setObjectName("devicesTable");
  table_->setColumnCount(8);
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  load_ = new DeviceGridView(this);
  load_->setObjectName("devicesLoad");
  traffic_ = new DeviceGridView(this);
  traffic_->setObjectName("devicesTraffic");

  auto* controls = new QHBoxLayout;
  for (QLabel*& label : labels_) label = new QLabel(this);
  controls->addWidget(labels_[0]);
  controls->addWidget(devices_);
  controls->addWidget(labels_[1]);
  controls->addWidget(nodes_);
  controls->addWidget(labels_[2]);
  controls->addWidget(redundant_);
  controls->addStretch(1);
  auto* grids = new QHBoxLayout;
  grids->addWidget(load_, 1);
  grids->addWidget(traffic_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(status_);
  layout->addWidget(table_, 1);
  layout->addLayout(grids, 2);

  for (QSpinBox* box : {devices_, nodes_, redundant_})
    connect(box, &QSpinBox::valueChanged, this, &DevicesPanel::schedule);
  connect(table_, &QTableWidget::itemSelectionChanged, this, &DevicesPanel::showSelected);
  connect(session_, &SessionController::analysisUpdated, this, &DevicesPanel::schedule);
  connect(session_, &SessionController::runStarted, this, [this] {
    ++epoch_;
    study_.reset();
    error_.clear();
    refresh();
  });
  retranslate();
  schedule();
}

void DevicesPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void DevicesPanel::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  schedule();
}

void DevicesPanel::retranslate() {
  setWindowTitle(tr("Devices"));
  labels_[0]->setText(tr("Devices"));
  labels_[1]->setText(tr("Nodes"));
  labels_[2]->setText(tr("Redundant experts"));
  table_->setHorizontalHeaderLabels({tr("placement"), tr("balancedness"), tr("step balancedness"),
                                     tr("straggler"), tr("same-device pairs"), tr("intra-node MB"),
                                     tr("inter-node MB"), tr("modelled MoE time ms")});
  refresh();
}

void DevicesPanel::schedule() {
  const RunData& run = session_->run();
  if (run.routed_count() == 0 || wait_until_shown(this)) return;
  const Key key{epoch_, run.routed_count(), devices_->value(), nodes_->value(),
                redundant_->value()};
  if (key == shown_) return;
  if (busy_) {
    again_ = true;
    return;
  }
  busy_ = true;
  struct Done {
    Key key;
    std::shared_ptr<const placement::Study> study;
    QString error;
  };
  run_in_background<Done>(
      this,
      [key, trace = run.routing_trace()]() mutable {
        Done d{key, nullptr, {}};
        try {
          trace.validate();
          placement::StudyOptions options;
          options.topology = {.devices = key.devices, .nodes = key.nodes};
          options.redundant = key.redundant;
          int32_t blocks = 0;
          for (int32_t b : trace.shape.model_layer) blocks = std::max(blocks, b + 1);
          const placement::StudyInput input{.routing = trace,
                                            .requests = {},
                                            .steps = {},
                                            .n_model_layers = blocks,
                                            .label = "the current run"};
          d.study = std::make_shared<const placement::Study>(placement::run_study(input, options));
        } catch (const std::exception& e) {
          d.error = QString::fromStdString(e.what());
        }
        return d;
      },
      [this](Done d) {
        busy_ = false;
        if (d.key.epoch == epoch_) {
          study_ = std::move(d.study);
          error_ = d.error;
          shown_ = d.key;
          refresh();
        }
        if (again_) {
          again_ = false;
          schedule();
        }
      });
}

void DevicesPanel::refresh() {
  table_->setRowCount(0);
  if (!study_) {
    status_->setText(error_.isEmpty() ? tr("No placement yet: generate text or open a trace.")
                                      : tr("No placement: %1").arg(error_));
    load_->clear();
    traffic_->clear();
    return;
  }
  status_->setText(QString::fromStdString(study_->describe_split()));
  table_->setRowCount(int(study_->entries.size()));
  for (int r = 0; r < int(study_->entries.size()); ++r) {
    const placement::StudyEntry& e = study_->entries[size_t(r)];
    const placement::PlacementMetrics& m = e.metrics;
    const QStringList cells{QString::fromStdString(m.algorithm),
                            fixed(m.balancedness(), 3),
                            fixed(m.step_balancedness(), 3),
                            fixed(m.step_straggler(), 2),
                            fixed(100 * m.same_device_fraction(), 1) + " %",
                            fixed(m.intra_bytes() / 1e6, 2),
                            fixed(m.inter_bytes() / 1e6, 2),
                            fixed(m.time_ns() / 1e6, 3)};
    for (int c = 0; c < cells.size(); ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      item->setToolTip(QString::fromStdString(e.note));
      if (c > 0) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      table_->setItem(r, c, item);
    }
  }
  table_->selectRow(0);
  showSelected();
}

void DevicesPanel::showSelected() {
  if (!study_ || study_->entries.empty()) return;
  const int row = std::clamp(table_->currentRow(), 0, int(study_->entries.size()) - 1);
  const placement::PlacementMetrics& m = study_->entries[size_t(row)].metrics;
  const int g = m.devices;
  QStringList devices, layers;
  for (int d = 0; d < g; ++d) devices << tr("D%1").arg(d);
  std::vector<double> load;
  for (size_t l = 0; l < m.layers.size(); ++l) {
    layers << tr("L%1").arg(l);
    load.insert(load.end(), m.layers[l].device_load.begin(), m.layers[l].device_load.end());
  }
  load_->setGrid(int(m.layers.size()), g, std::move(load), layers, devices,
                 tr("%1: routed pairs per layer and device").arg(QString::fromStdString(m.algorithm)));
  traffic_->setGrid(g, g, m.traffic, devices, devices,
                    tr("all-to-all: token messages from home (row) to device (column)"));
}

}  // namespace moescope::views
