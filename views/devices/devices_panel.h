#pragma once
// "Devices": the current run (or opened trace) served with expert parallelism (docs/placement.md).
// A placement chooser (devices, nodes, redundant experts), the placements side by side
// (contiguous, DeepSeek EPLB, ExFlow affinity, joint; fitted on the first half of the run,
// evaluated on the held-out rest) and, for the placement selected in the table, the device x layer
// load heatmap and the device x device all-to-all matrix. Computed off the GUI thread after each
// cache analysis and whenever a setting changes; in a window only while the panel can be seen
// (views/common/background.h, wait_until_shown).
#include <QWidget>

#include <cstdint>
#include <memory>

#include "engine/placement/placement_study.h"

class QLabel;
class QSpinBox;
class QTableWidget;

namespace moescope::views {

class DeviceGridView;
class SessionController;

class DevicesPanel : public QWidget {
  Q_OBJECT
 public:
  explicit DevicesPanel(SessionController* session, QWidget* parent = nullptr);
  QSpinBox* devicesBox() const { return devices_; }
  QSpinBox* nodesBox() const { return nodes_; }
  QSpinBox* redundantBox() const { return redundant_; }
  QTableWidget* table() const { return table_; }
  DeviceGridView* loadView() const { return load_; }
  DeviceGridView* trafficView() const { return traffic_; }
  QLabel* statusLabel() const { return status_; }
  // What the panel shows, or null.
  const std::shared_ptr<const placement::Study>& study() const { return study_; }

 protected:
  void changeEvent(QEvent* event) override;
  void showEvent(QShowEvent* event) override;

 private:
  struct Key {
    uint64_t epoch = 0;
    int routed = -1;
    int devices = 0, nodes = 0, redundant = 0;
    bool operator==(const Key&) const = default;
  };
  void retranslate();
  void schedule();
  void refresh();
  void showSelected();

  SessionController* session_;
  QSpinBox* devices_;
  QSpinBox* nodes_;
  QSpinBox* redundant_;
  QLabel* labels_[3] = {};  // of the three spin boxes
  QLabel* status_;
  QTableWidget* table_;
  DeviceGridView* load_;
  DeviceGridView* traffic_;
  std::shared_ptr<const placement::Study> study_;
  QString error_;
  uint64_t epoch_ = 0;
  Key shown_;
  bool busy_ = false, again_ = false;
};

}  // namespace moescope::views
