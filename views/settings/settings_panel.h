#pragma once
// The settings panel: sampling and length, the expert cache (offloading on/off, budget, policy,
// prefetcher, link preset, allocator), the policies compared beside it with the oracle bounds,
// and the lossy gating variants (marked lossy; the engine does not offer them yet). Every edit is
// written to the session at once; the next run uses it and a finished run is re-analysed.
#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QListWidget;
class QSlider;
class QSpinBox;
class QFormLayout;
class QLineEdit;
class QPushButton;

namespace moescope::views {

class SessionController;
struct RunSettings;

class SettingsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit SettingsPanel(SessionController* session, QWidget* parent = nullptr);
  // For tests: the read-only summary of a trace's recorded settings and its button.
  QLabel* recordedSummary() const { return recorded_; }
  QPushButton* useRecordedButton() const { return use_recorded_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void build();
  void buildRecordedBox(QWidget* body);
  void buildGenerationBox(QWidget* body);
  void buildCacheBox(QWidget* body);
  void buildCompareBox(QWidget* body);
  void buildLossyBox(QWidget* body);
  void buildRecordBox(QWidget* body);
  void connectEdits();
  void connectRecording();  // the record switch, its file and its error
  void retranslate();
  void retranslateChoices();
  void pull();  // session -> widgets
  void push();  // widgets -> session
  void updateBudgetLabel();
  void updateContextLimit();  // max new tokens within the model's context
  void updateRecorded();  // the trace's recorded settings, read-only

  SessionController* session_;
  bool pulling_ = false;

  QGroupBox* recorded_box_;
  QLabel* recorded_;
  QPushButton* use_recorded_;

  QGroupBox* generation_box_;
  QFormLayout* generation_form_;
  QSpinBox* max_tokens_;
  QDoubleSpinBox* temperature_;
  QSpinBox* top_k_;
  QDoubleSpinBox* top_p_;
  QDoubleSpinBox* min_p_;
  QDoubleSpinBox* repeat_penalty_;
  QSpinBox* seed_;

  QGroupBox* cache_box_;
  QFormLayout* cache_form_;
  QCheckBox* offload_;
  QSlider* budget_slider_;
  QSpinBox* budget_;
  QLabel* budget_info_;
  QComboBox* policy_;
  QComboBox* prefetcher_;
  QComboBox* link_;
  QComboBox* allocator_;

  QGroupBox* compare_box_;
  QListWidget* compare_;
  QCheckBox* bounds_;
  QSpinBox* sch_window_;
  QLabel* sch_label_;

  QGroupBox* lossy_box_;
  QLabel* lossy_note_;
  QCheckBox* adaptive_top_k_;
  QDoubleSpinBox* adaptive_threshold_;
  QCheckBox* substitution_;
  QDoubleSpinBox* substitute_eps_;

  QGroupBox* record_box_;
  QCheckBox* record_;
  QLineEdit* record_path_;
  QPushButton* record_choose_;
  QLabel* record_error_;
};

}  // namespace moescope::views
