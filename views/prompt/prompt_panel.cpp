#include "views/prompt/prompt_panel.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "views/session/session_controller.h"

namespace moescope::views {

PromptPanel::PromptPanel(SessionController* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  editor_ = new QPlainTextEdit(this);
  editor_->setObjectName("promptEditor");
  editor_->setPlainText(session_->settings().prompt);
  editor_->installEventFilter(this);
  auto* buttons = new QHBoxLayout;
  generate_ = new QPushButton(this);
  generate_->setObjectName("generateButton");
  stop_ = new QPushButton(this);
  stop_->setObjectName("stopButton");
  state_ = new QLabel(this);
  state_->setObjectName("runState");
  buttons->addWidget(generate_);
  buttons->addWidget(stop_);
  buttons->addWidget(state_, 1);
  layout->addWidget(editor_, 1);
  layout->addLayout(buttons);

  connect(generate_, &QPushButton::clicked, this, &PromptPanel::generate);
  connect(stop_, &QPushButton::clicked, session_, &SessionController::stop);
  connect(session_, &SessionController::stateChanged, this, &PromptPanel::updateState);
  connect(session_, &SessionController::runFinished, this, &PromptPanel::updateState);
  // A new model starts an empty run after the state turned ready: count again, not the old run.
  connect(session_, &SessionController::runStarted, this, &PromptPanel::updateState);
  connect(session_, &SessionController::runFailed, this,
          [this](const QString& error) { state_->setText(tr("Failed: %1").arg(error)); });
  connect(session_, &SessionController::settingsChanged, this, [this] {
    if (editor_->toPlainText() != session_->settings().prompt) {
      editor_->setPlainText(session_->settings().prompt);
    }
  });
  // A reopened run shows its own prompt (the next Generate uses what the box then holds).
  connect(session_, &SessionController::traceOpened, this, [this] {
    const RunData& run = session_->run();
    QString prompt;
    for (int t = 0; t < run.token_count() && !run.token(t).generated; ++t) {
      if (!run.token(t).special) prompt += run.token(t).text;
    }
    editor_->setPlainText(prompt);
  });
  retranslate();
}

void PromptPanel::generate() {
  RunSettings s = session_->settings();
  s.prompt = editor_->toPlainText();
  session_->setSettings(s);
  session_->generate();
}

bool PromptPanel::eventFilter(QObject* watched, QEvent* event) {
  if (watched == editor_ && event->type() == QEvent::KeyPress) {
    auto* key = static_cast<QKeyEvent*>(event);
    if ((key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) &&
        (key->modifiers() & Qt::ControlModifier)) {
      generate();
      return true;
    }
  }
  return QWidget::eventFilter(watched, event);
}

void PromptPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void PromptPanel::retranslate() {
  editor_->setPlaceholderText(tr("Write a prompt, then Generate (Ctrl+Return)"));
  generate_->setText(tr("Generate"));
  generate_->setToolTip(tr("Generate from the prompt with the current settings (Ctrl+Return)"));
  stop_->setText(tr("Stop"));
  stop_->setToolTip(tr("Stop after the current token (Esc)"));
  updateState();
}

void PromptPanel::updateState() {
  using State = SessionController::State;
  const State s = session_->state();
  generate_->setEnabled(s == State::kReady);
  stop_->setEnabled(s == State::kGenerating);
  switch (s) {
    case State::kNoModel:
      state_->setText(tr("Open a model to start"));
      break;
    case State::kLoadingModel:
      state_->setText(tr("Loading the model…"));
      break;
    case State::kGenerating:
      state_->setText(tr("Generating…"));
      break;
    case State::kStopping:
      state_->setText(tr("Stopping…"));
      break;
    case State::kReady: {
      const RunData& run = session_->run();
      if (run.token_count() > run.prompt_count()) {
        state_->setText(tr("Generated tokens: %1").arg(run.token_count() - run.prompt_count()));
      } else {
        state_->setText(tr("Ready"));
      }
      break;
    }
  }
}

}  // namespace moescope::views
