#pragma once
// The prompt editor with Generate and Stop. Ctrl+Return generates from inside the editor.
#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;

namespace moescope::views {

class SessionController;

class PromptPanel : public QWidget {
  Q_OBJECT
 public:
  explicit PromptPanel(SessionController* session, QWidget* parent = nullptr);

  QPlainTextEdit* editor() const { return editor_; }
  QPushButton* generateButton() const { return generate_; }
  QPushButton* stopButton() const { return stop_; }

 public Q_SLOTS:
  // Takes the editor's text as the prompt and starts a run.
  void generate();

 protected:
  void changeEvent(QEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void retranslate();
  void updateState();

  SessionController* session_;
  QPlainTextEdit* editor_;
  QPushButton* generate_;
  QPushButton* stop_;
  QLabel* state_;
};

}  // namespace moescope::views
