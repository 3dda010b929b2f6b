#pragma once
// The workload mode: many requests at once through the batched session pipeline, as
// `moescope batch` runs them. The prompts (typed, one per line, or loaded from a text or JSONL
// workload file), the maximum batch, the arrival (all at once, or Poisson at a rate with a seed),
// the scheduler (FIFO, expert-aware, or both one after the other for the side-by-side
// comparison), the new tokens per request; sampling and the expert cache are the Settings
// panel's. Below, the requests of the run on show (request_list_model.h, filtered and sorted by
// request_filter_model.h) and the selected request's prompt and generated text.
#include <QString>
#include <QWidget>

#include "views/batch/batch_job.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableView;
class QTextBrowser;

namespace moescope::views {

class BatchController;
class RequestFilterModel;
class RequestListModel;
class SessionController;

class WorkloadPanel : public QWidget {
  Q_OBJECT
 public:
  WorkloadPanel(SessionController* session, BatchController* batch, QWidget* parent = nullptr);

  // The workload the fields describe.
  BatchWorkload workload() const;
  void setPrompts(const QStringList& prompts);
  // Reads a workload file (storage/session/workload_file.h) into the prompts. False, and the
  // one-line error in the panel, for a file that cannot be read or parsed.
  bool loadPrompts(const QString& path);
  void setSchedulers(const QStringList& schedulers);  // {"fifo"}, {"expert-aware"} or both
  void setMaxBatch(int max_batch);
  void setMaxNewTokens(int n);
  void setArrival(const QString& arrival, uint64_t seed);

  RequestListModel* requestModel() const { return requests_; }
  RequestFilterModel* filterModel() const { return filter_; }
  QTableView* requestView() const { return request_view_; }
  QTextBrowser* textView() const { return text_; }
  QComboBox* runChooser() const { return run_choice_; }
  QLabel* message() const { return message_; }
  // Selects the request with this id in the list (its text shows below); false when not listed.
  bool selectRequest(int64_t id);

 public Q_SLOTS:
  void run();
  void chooseFile();

 protected:
  void changeEvent(QEvent* event) override;

 private:
  QWidget* createForm();
  QWidget* createRequests();
  void retranslate();
  void showRuns();
  void showRun(int index);
  void showSelectedText();
  void updateButtons();

  SessionController* session_;
  BatchController* batch_;
  RequestListModel* requests_;
  RequestFilterModel* filter_;
  int shown_run_ = 0;

  QLabel* prompts_label_ = nullptr;
  QPlainTextEdit* prompts_ = nullptr;
  QPushButton* load_ = nullptr;
  QLabel* batch_label_ = nullptr;
  QSpinBox* max_batch_ = nullptr;
  QLabel* arrival_label_ = nullptr;
  QComboBox* arrival_ = nullptr;
  QDoubleSpinBox* rate_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QLabel* scheduler_label_ = nullptr;
  QComboBox* scheduler_ = nullptr;
  QLabel* tokens_label_ = nullptr;
  QSpinBox* max_new_ = nullptr;
  QPushButton* run_ = nullptr;
  QPushButton* stop_ = nullptr;
  QLabel* message_ = nullptr;
  QLabel* run_label_ = nullptr;
  QComboBox* run_choice_ = nullptr;
  QLineEdit* filter_text_ = nullptr;
  QComboBox* states_ = nullptr;
  QTableView* request_view_ = nullptr;
  QTextBrowser* text_ = nullptr;
};

}  // namespace moescope::views
