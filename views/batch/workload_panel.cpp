#include "views/batch/workload_panel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QTextBrowser>
#include <QVBoxLayout>

#include "engine/common/error.h"
#include "storage/session/workload_file.h"
#include "views/batch/batch_controller.h"
#include "views/batch/request_filter_model.h"
#include "views/batch/request_list_model.h"
#include "views/common/view_export.h"
#include "views/session/session_controller.h"

namespace moescope::views {

WorkloadPanel::WorkloadPanel(SessionController* session, BatchController* batch, QWidget* parent)
    : QWidget(parent), session_(session), batch_(batch) {
  requests_ = new RequestListModel(this);
  filter_ = new RequestFilterModel(this);
  filter_->setSourceModel(requests_);
  auto* layout = new QVBoxLayout(this);
  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(createForm());
  splitter->addWidget(createRequests());
  text_ = new QTextBrowser(splitter);
  text_->setObjectName("requestText");
  splitter->addWidget(text_);
  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 3);
  splitter->setStretchFactor(2, 2);
  layout->addWidget(splitter);

  connect(batch_, &BatchController::runsReset, this, &WorkloadPanel::showRuns);
  connect(batch_, &BatchController::runUpdated, this, [this](int index) {
    if (index == shown_run_) showRun(index);
  });
  connect(batch_, &BatchController::runFinished, this, [this] {
    message_->setText(tr("Workload finished."));
    updateButtons();
  });
  connect(batch_, &BatchController::runFailed, this, [this](const QString& error) {
    message_->setText(tr("The workload failed: %1").arg(error));
    updateButtons();
  });
  connect(session_, &SessionController::stateChanged, this, &WorkloadPanel::updateButtons);
  connect(run_choice_, &QComboBox::currentIndexChanged, this, [this](int index) {
    if (index >= 0) showRun(index);
  });
  connect(request_view_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          &WorkloadPanel::showSelectedText);
  retranslate();
  updateButtons();
}

QWidget* WorkloadPanel::createForm() {
  auto* form_widget = new QWidget(this);
  auto* form = new QFormLayout(form_widget);
  form->setContentsMargins(0, 0, 0, 0);
  prompts_ = new QPlainTextEdit(form_widget);
  prompts_->setObjectName("workloadPrompts");
  prompts_->setLineWrapMode(QPlainTextEdit::NoWrap);
  load_ = new QPushButton(form_widget);
  load_->setObjectName("loadWorkload");
  auto* prompts_box = new QVBoxLayout;
  prompts_box->addWidget(prompts_, 1);
  prompts_box->addWidget(load_, 0, Qt::AlignLeft);
  prompts_label_ = new QLabel(form_widget);
  form->addRow(prompts_label_, prompts_box);

  max_batch_ = new QSpinBox(form_widget);
  max_batch_->setObjectName("maxBatch");
  max_batch_->setRange(1, 4096);
  max_batch_->setValue(4);
  batch_label_ = new QLabel(form_widget);
  form->addRow(batch_label_, max_batch_);

  arrival_ = new QComboBox(form_widget);
  arrival_->setObjectName("arrival");
  arrival_->addItem(QString(), QStringLiteral("all"));
  arrival_->addItem(QString(), QStringLiteral("poisson"));
  rate_ = new QDoubleSpinBox(form_widget);
  rate_->setObjectName("arrivalRate");
  rate_->setRange(0.01, 10000);
  rate_->setValue(4);
  rate_->setDecimals(2);
  seed_ = new QSpinBox(form_widget);
  seed_->setObjectName("arrivalSeed");
  seed_->setRange(0, 1 << 30);
  seed_->setValue(42);
  auto* arrival_row = new QHBoxLayout;
  arrival_row->addWidget(arrival_);
  arrival_row->addWidget(rate_);
  arrival_row->addWidget(seed_);
  arrival_label_ = new QLabel(form_widget);
  form->addRow(arrival_label_, arrival_row);
  connect(arrival_, &QComboBox::currentIndexChanged, this, &WorkloadPanel::updateButtons);

  scheduler_ = new QComboBox(form_widget);
  scheduler_->setObjectName("scheduler");
  scheduler_->addItem(QString(), QStringList{"fifo"});
  scheduler_->addItem(QString(), QStringList{"expert-aware"});
  scheduler_->addItem(QString(), QStringList{"fifo", "expert-aware"});
  scheduler_label_ = new QLabel(form_widget);
  form->addRow(scheduler_label_, scheduler_);

  max_new_ = new QSpinBox(form_widget);
  max_new_->setObjectName("workloadMaxNew");
  max_new_->setRange(1, 1 << 20);
  max_new_->setValue(32);
  tokens_label_ = new QLabel(form_widget);
  form->addRow(tokens_label_, max_new_);

  run_ = new QPushButton(form_widget);
  run_->setObjectName("runWorkload");
  stop_ = new QPushButton(form_widget);
  stop_->setObjectName("stopWorkload");
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(run_);
  buttons->addWidget(stop_);
  buttons->addStretch(1);
  form->addRow(buttons);
  message_ = new QLabel(form_widget);
  message_->setObjectName("workloadMessage");
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  form->addRow(message_);
  connect(load_, &QPushButton::clicked, this, &WorkloadPanel::chooseFile);
  connect(run_, &QPushButton::clicked, this, &WorkloadPanel::run);
  connect(stop_, &QPushButton::clicked, batch_, &BatchController::stop);
  return form_widget;
}

QWidget* WorkloadPanel::createRequests() {
  auto* box = new QWidget(this);
  auto* layout = new QVBoxLayout(box);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* filters = new QHBoxLayout;
  run_label_ = new QLabel(box);
  run_choice_ = new QComboBox(box);
  run_choice_->setObjectName("workloadRun");
  filter_text_ = new QLineEdit(box);
  filter_text_->setObjectName("requestFilter");
  filter_text_->setClearButtonEnabled(true);
  states_ = new QComboBox(box);
  states_->setObjectName("requestStates");
  for (int i = 0; i < 3; ++i) states_->addItem(QString());
  filters->addWidget(run_label_);
  filters->addWidget(run_choice_);
  filters->addWidget(filter_text_, 1);
  filters->addWidget(states_);
  layout->addLayout(filters);
  request_view_ = new QTableView(box);
  request_view_->setObjectName("requestList");
  request_view_->setModel(filter_);
  request_view_->setSortingEnabled(true);
  request_view_->sortByColumn(RequestListModel::kId, Qt::AscendingOrder);
  request_view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  request_view_->setSelectionMode(QAbstractItemView::SingleSelection);
  request_view_->verticalHeader()->hide();
  request_view_->horizontalHeader()->setSectionResizeMode(RequestListModel::kPrompt,
                                                          QHeaderView::Stretch);
  layout->addWidget(request_view_, 1);
  new ViewExport(
      request_view_, [this] { return table_from_model(*filter_); }, QStringLiteral("requests"));
  connect(filter_text_, &QLineEdit::textChanged, filter_, &RequestFilterModel::setPromptFilter);
  connect(states_, &QComboBox::currentIndexChanged, this, [this](int index) {
    filter_->setStates(RequestFilterModel::States(std::max(0, index)));
  });
  return box;
}

BatchWorkload WorkloadPanel::workload() const {
  BatchWorkload w;
  for (const QString& line : prompts_->toPlainText().split(QLatin1Char('\n'))) {
    if (!line.trimmed().isEmpty()) w.prompts << line;
  }
  w.max_batch = max_batch_->value();
  w.arrival = arrival_->currentData().toString() == "all"
                  ? QStringLiteral("all")
                  : QStringLiteral("poisson:%1").arg(rate_->value(), 0, 'g', 6);
  w.arrival_seed = uint64_t(seed_->value());
  w.schedulers = scheduler_->currentData().toStringList();
  w.max_new_tokens = max_new_->value();
  return w;
}

void WorkloadPanel::setPrompts(const QStringList& prompts) {
  prompts_->setPlainText(prompts.join(QLatin1Char('\n')));
}

bool WorkloadPanel::loadPrompts(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    message_->setText(tr("Could not read %1: %2").arg(path, file.errorString()));
    return false;
  }
  try {
    const auto prompts = storage::parse_workload(file.readAll().toStdString(),
                                                 QFileInfo(path).fileName().toStdString());
    QStringList lines;
    for (const storage::WorkloadPrompt& p : prompts) {
      // One prompt per line in the editor: a prompt's own line breaks cannot be kept there.
      if (QString::fromStdString(p.text).contains(QLatin1Char('\n'))) {
        fail("{}:{}: the prompt has a line break, which the workload editor cannot keep",
             QFileInfo(path).fileName().toStdString(), p.line);
      }
      lines << QString::fromStdString(p.text);
    }
    setPrompts(lines);
    message_->setText(tr("Prompts from %1: %2").arg(QFileInfo(path).fileName()).arg(lines.size()));
    return true;
  } catch (const Error& e) {
    message_->setText(QString::fromUtf8(e.what()));
    return false;
  }
}

void WorkloadPanel::chooseFile() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Load a workload"), QString(),
                                                    tr("Workloads (*.txt *.jsonl);;All files (*)"));
  if (!path.isEmpty()) loadPrompts(path);
}

void WorkloadPanel::setSchedulers(const QStringList& schedulers) {
  for (int i = 0; i < scheduler_->count(); ++i) {
    if (scheduler_->itemData(i).toStringList() == schedulers) scheduler_->setCurrentIndex(i);
  }
}

void WorkloadPanel::setMaxBatch(int max_batch) {
  max_batch_->setValue(max_batch);
}

void WorkloadPanel::setMaxNewTokens(int n) {
  max_new_->setValue(n);
}

void WorkloadPanel::setArrival(const QString& arrival, uint64_t seed) {
  seed_->setValue(int(seed));
  if (arrival.startsWith("poisson:")) {
    arrival_->setCurrentIndex(1);
    rate_->setValue(arrival.mid(8).toDouble());
  } else {
    arrival_->setCurrentIndex(0);
  }
}

void WorkloadPanel::run() {
  message_->setText(tr("Running the workload …"));
  batch_->start(workload());  // a refusal comes back through runFailed
  updateButtons();
}

void WorkloadPanel::updateButtons() {
  run_->setEnabled(session_->state() == SessionController::State::kReady);
  stop_->setEnabled(batch_->running());
  const bool poisson = arrival_->currentData().toString() == "poisson";
  rate_->setEnabled(poisson);
  seed_->setEnabled(poisson);
}

void WorkloadPanel::showRuns() {
  const QSignalBlocker block(run_choice_);
  run_choice_->clear();
  for (const BatchRun& r : batch_->runs())
    run_choice_->addItem(r.scheduler.isEmpty() ? tr("(scheduler not recorded)") : r.scheduler);
  run_choice_->setVisible(batch_->runs().size() > 1);
  run_label_->setVisible(batch_->runs().size() > 1);
  shown_run_ = 0;
  showRun(0);
  updateButtons();
}

void WorkloadPanel::showRun(int index) {
  shown_run_ = index;
  const auto& runs = batch_->runs();
  requests_->setRequests(size_t(index) < runs.size() ? runs[size_t(index)].requests
                                                     : std::vector<BatchRequest>{});
  showSelectedText();
}

bool WorkloadPanel::selectRequest(int64_t id) {
  for (int row = 0; row < filter_->rowCount(); ++row) {
    const QModelIndex index = filter_->index(row, RequestListModel::kId);
    if (index.data(RequestListModel::kSortRole).toLongLong() != id) continue;
    request_view_->setCurrentIndex(index);
    request_view_->selectRow(row);
    return true;
  }
  return false;
}

void WorkloadPanel::showSelectedText() {
  const QModelIndex current = filter_->mapToSource(request_view_->currentIndex());
  if (!current.isValid()) {
    text_->clear();
    return;
  }
  const BatchRequest& r = requests_->request(current.row());
  // The prompt in grey, the generated text after it: as the main text view shows a run.
  text_->setHtml(QStringLiteral("<p style='white-space: pre-wrap'><span style='color: gray'>%1"
                                "</span>%2</p>")
                     .arg(r.prompt.toHtmlEscaped(), r.generated.toHtmlEscaped()));
}

void WorkloadPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void WorkloadPanel::retranslate() {
  prompts_label_->setText(tr("Prompts"));
  prompts_->setPlaceholderText(tr("One prompt per line"));
  load_->setText(tr("Load file…"));
  load_->setToolTip(
      tr("A text file (one prompt per line) or JSONL ({\"prompt\": …} per line), "
         "as moescope batch --prompts reads it"));
  batch_label_->setText(tr("Max batch"));
  max_batch_->setToolTip(tr("Requests per step (forward call)"));
  arrival_label_->setText(tr("Arrival"));
  arrival_->setItemText(0, tr("all at once"));
  arrival_->setItemText(1, tr("Poisson"));
  rate_->setSuffix(tr(" /s"));
  rate_->setToolTip(tr("Requests per second"));
  seed_->setToolTip(tr("Seed of the Poisson arrivals"));
  scheduler_label_->setText(tr("Scheduler"));
  scheduler_->setItemText(0, tr("FIFO"));
  scheduler_->setItemText(1, tr("expert-aware (ExpertFlow)"));
  scheduler_->setItemText(2, tr("FIFO and expert-aware, side by side"));
  scheduler_->setToolTip(
      tr("Both: the same workload runs twice, one run after the other; "
         "scheduling is exact, so every request gets the same text"));
  tokens_label_->setText(tr("Max new tokens"));
  run_->setText(tr("Run workload"));
  stop_->setText(tr("Stop"));
  run_label_->setText(tr("Run"));
  filter_text_->setPlaceholderText(tr("Filter prompts"));
  states_->setItemText(0, tr("all requests"));
  states_->setItemText(1, tr("unfinished"));
  states_->setItemText(2, tr("finished"));
  text_->setPlaceholderText(tr("Select a request to see its prompt and generated text"));
}

}  // namespace moescope::views
