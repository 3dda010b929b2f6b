#pragma once
// "Suitability": is the model suited to expert offloading on the run's link, and at which cache
// size? The verdict, SRP(m) and SCH / LRU / OPT at k and 2k slots per layer, and the
// break-even hit rate, for the current run or an opened trace, judged with the run's measured
// layer compute (RunData::routing_trace_with_compute). The panel computes it off the GUI thread
// after each complete cache analysis, on the analysed link: once the run has ended, and while a
// run is generating at most once every kLiveIntervalMs, so that long runs do not pay for it on
// every refresh. In a window it computes only while it can be seen (a tab behind another waits
// until it is raised), so an opened trace's first charts do not share the CPU with it.
#include <QElapsedTimer>
#include <QString>
#include <QWidget>

#include <cstdint>
#include <memory>

#include "engine/policy/suitability.h"

class QLabel;
class QTableView;
class QTimer;

namespace moescope::views {

class SessionController;
class SuitabilityModel;

class SuitabilityPanel : public QWidget {
  Q_OBJECT
 public:
  explicit SuitabilityPanel(SessionController* session, QWidget* parent = nullptr);
  SuitabilityModel* model() const { return model_; }
  QLabel* verdictLabel() const { return verdict_; }
  QLabel* detailsLabel() const { return details_; }
  // What the panel shows, or null.
  const std::shared_ptr<const policy::Suitability>& suitability() const { return current_; }

  static constexpr int kLiveIntervalMs = 2000;

 protected:
  void changeEvent(QEvent* event) override;
  void showEvent(QShowEvent* event) override;

 private:
  void retranslate();
  void refresh();
  // Starts a computation when the analysed run or link changed since the last one.
  void schedule();

  struct Key {
    uint64_t epoch = 0;  // runs started since the panel was made
    int routed = -1;
    QString link;
    bool operator==(const Key&) const = default;
  };

  SessionController* session_;
  SuitabilityModel* model_;
  QLabel* verdict_;
  QTableView* table_;
  QLabel* details_;
  QTimer* retry_;  // a live computation waiting for kLiveIntervalMs to pass
  QElapsedTimer since_start_;
  std::shared_ptr<const policy::Suitability> current_;
  uint64_t epoch_ = 0;
  Key shown_;           // what current_ was computed for
  bool busy_ = false;   // a computation is running
  bool again_ = false;  // the run changed while it ran
};

}  // namespace moescope::views
