#pragma once
// The model panel: open a GGUF file (button, drag-and-drop, recent files) and read its inspect
// summary (engine/model/model_summary.h): architecture, experts, sizes, tensor types.
#include <QStringList>
#include <QWidget>

class QLabel;
class QMimeData;
class QListWidget;
class QPushButton;
class QTreeWidget;

namespace moescope::views {

class SessionController;

class ModelPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ModelPanel(SessionController* session, QWidget* parent = nullptr);

  static constexpr int kMaxRecent = 8;
  QStringList recentFiles() const { return recent_; }
  void setRecentFiles(const QStringList& files);
  QTreeWidget* summaryTree() const { return summary_; }

 public Q_SLOTS:
  // Shows a file dialog and opens the chosen model.
  void chooseModel();

 Q_SIGNALS:
  void recentFilesChanged(const QStringList& files);

 protected:
  void changeEvent(QEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void retranslate();
  void showSummary();
  void addRecent(const QString& path);

  SessionController* session_;
  QPushButton* open_;
  QLabel* status_;
  QLabel* recent_label_;
  QListWidget* recent_list_;
  QTreeWidget* summary_;
  QStringList recent_;
};

// The first local file among dropped URLs whose name ends with `suffix` (".gguf", ".sqlite"), or
// an empty string.
QString dropped_file(const QMimeData* mime, const QStringList& suffixes);

}  // namespace moescope::views
