#include "views/model/model_panel.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMimeData>
#include <QPushButton>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>

#include "views/common/format.h"
#include "views/session/session_controller.h"

namespace moescope::views {

QString dropped_file(const QMimeData* mime, const QStringList& suffixes) {
  if (!mime || !mime->hasUrls()) return {};
  for (const QUrl& url : mime->urls()) {
    if (!url.isLocalFile()) continue;
    const QString path = url.toLocalFile();
    for (const QString& suffix : suffixes) {
      if (path.endsWith(suffix, Qt::CaseInsensitive)) return path;
    }
  }
  return {};
}

ModelPanel::ModelPanel(SessionController* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  setAcceptDrops(true);
  auto* layout = new QVBoxLayout(this);
  open_ = new QPushButton(this);
  open_->setObjectName("openModelButton");
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  recent_label_ = new QLabel(this);
  recent_list_ = new QListWidget(this);
  recent_list_->setObjectName("recentModels");
  // Three entries show; the inspect summary gets the rest of the panel.
  recent_list_->setMaximumHeight(3 * recent_list_->fontMetrics().height() + 12);
  summary_ = new QTreeWidget(this);
  summary_->setObjectName("modelSummary");
  summary_->setColumnCount(2);
  summary_->setRootIsDecorated(true);
  summary_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  summary_->setUniformRowHeights(true);
  // The headline rows readable without scrolling, yet small enough for a laptop screen.
  summary_->setMinimumHeight(9 * summary_->fontMetrics().height() + 16);
  layout->addWidget(open_);
  layout->addWidget(status_);
  layout->addWidget(summary_, 1);
  layout->addWidget(recent_label_);
  layout->addWidget(recent_list_);

  connect(open_, &QPushButton::clicked, this, &ModelPanel::chooseModel);
  connect(recent_list_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
    session_->openModel(item->data(Qt::UserRole).toString());
  });
  connect(session_, &SessionController::modelLoading, this, [this](const QString& path) {
    status_->setText(tr("Loading %1 …").arg(QFileInfo(path).fileName()));
  });
  connect(session_, &SessionController::modelLoaded, this, [this] {
    addRecent(QString::fromStdString(session_->model()->path.string()));
    showSummary();
  });
  connect(session_, &SessionController::modelFailed, this,
          [this](const QString& path, const QString& error) {
            status_->setText(tr("Could not open %1: %2").arg(QFileInfo(path).fileName(), error));
          });
  retranslate();
}

void ModelPanel::chooseModel() {
  const QString dir = recent_.isEmpty() ? QString() : QFileInfo(recent_.first()).absolutePath();
  const QString path = QFileDialog::getOpenFileName(this, tr("Open a GGUF model"), dir,
                                                    tr("GGUF models (*.gguf);;All files (*)"));
  if (!path.isEmpty()) session_->openModel(path);
}

void ModelPanel::setRecentFiles(const QStringList& files) {
  recent_ = files.mid(0, kMaxRecent);
  recent_list_->clear();
  for (const QString& f : recent_) {
    auto* item = new QListWidgetItem(QFileInfo(f).fileName(), recent_list_);
    item->setToolTip(f);
    item->setData(Qt::UserRole, f);
  }
}

void ModelPanel::addRecent(const QString& path) {
  QStringList files = recent_;
  files.removeAll(path);
  files.prepend(path);
  setRecentFiles(files);
  Q_EMIT recentFilesChanged(recent_);
}

void ModelPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void ModelPanel::dragEnterEvent(QDragEnterEvent* event) {
  if (!dropped_file(event->mimeData(), {".gguf"}).isEmpty()) event->acceptProposedAction();
}

void ModelPanel::dropEvent(QDropEvent* event) {
  const QString path = dropped_file(event->mimeData(), {".gguf"});
  if (path.isEmpty()) return;
  event->acceptProposedAction();
  session_->openModel(path);
}

void ModelPanel::retranslate() {
  open_->setText(tr("Open model…"));
  open_->setToolTip(tr("Open a GGUF model file (you can also drop one on the window)"));
  recent_label_->setText(tr("Recent models"));
  summary_->setHeaderLabels({tr("Property"), tr("Value")});
  if (session_->model()) {
    showSummary();
  } else if (!session_->busy()) {
    status_->setText(tr("No model loaded. Open a GGUF file or drop one here."));
  }
}

void ModelPanel::showSummary() {
  const LoadedModel* m = session_->model();
  summary_->clear();
  if (!m) return;
  const ModelSummary& s = m->summary;
  status_->setText(
      tr("%1 (%2)").arg(m->display_name(), QString::fromStdString(m->path.filename().string())));
  status_->setToolTip(QString::fromStdString(m->path.string()));
  auto add = [this](QTreeWidgetItem* parent, const QString& key, const QString& value) {
    auto* item = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(summary_);
    item->setText(0, key);
    item->setText(1, value);
    item->setToolTip(1, value);  // long values are elided in a narrow dock
    return item;
  };
  add(nullptr, tr("Architecture"), QString::fromStdString(s.architecture));
  add(nullptr, tr("Layers"), QString::number(s.n_layer));
  add(nullptr, tr("Embedding width"), QString::number(s.n_embd));
  add(nullptr, tr("Attention heads"), tr("%1 (KV %2)").arg(s.n_head).arg(s.n_head_kv));
  add(nullptr, tr("Routed experts"),
      tr("%1 per layer, top-%2").arg(s.n_expert).arg(s.n_expert_used));
  if (s.n_expert_shared > 0) add(nullptr, tr("Shared experts"), QString::number(s.n_expert_shared));
  add(nullptr, tr("MoE layers"), QString::number(m->shape.n_layers()));
  if (!s.dense_layers.empty()) {
    QStringList dense;
    for (int l : s.dense_layers) dense << QString::number(l);
    add(nullptr, tr("Dense layers"), dense.join(", "));
  }
  add(nullptr, tr("Vocabulary"),
      tr("%1 tokens (%2)").arg(s.n_vocab).arg(QString::fromStdString(s.tokenizer_model)));
  add(nullptr, tr("Training context"), QString::number(s.n_ctx_train));
  add(nullptr, tr("Parameters"),
      tr("%1 total, %2 active per token")
          .arg(format_count(int64_t(s.n_params)))
          .arg(format_count(int64_t(s.n_params_active))));
  add(nullptr, tr("File size"), format_bytes(s.file_bytes));
  auto* experts = add(nullptr, tr("Expert weights"), format_bytes(s.expert_bytes));
  for (const LayerExpertBytes& l : s.expert_bytes_per_layer) {
    add(experts, tr("Layer %1").arg(l.layer),
        tr("%1 experts × %2").arg(l.n_expert).arg(format_bytes(l.bytes_per_expert)));
  }
  auto* types = add(nullptr, tr("Tensor types"), QString::number(s.type_histogram.size()));
  for (const auto& [name, use] : s.type_histogram) {
    add(types, QString::fromStdString(name),
        tr("tensors: %1, %2").arg(use.tensors).arg(format_bytes(use.bytes)));
  }
  summary_->expandItem(types);
}

}  // namespace moescope::views
