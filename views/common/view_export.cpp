#include "views/common/view_export.h"

#include <QAbstractItemModel>
#include <QApplication>
#include <QBuffer>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QImage>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QPainter>
#include <QPixmap>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QWidget>

#include <charconv>
#include <cmath>

namespace moescope::views {
namespace {

QString csv_field(const QString& s) {
  if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"')) &&
      !s.contains(QLatin1Char('\n')) && !s.contains(QLatin1Char('\r'))) {
    return s;
  }
  QString quoted = s;
  quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
  return QLatin1Char('"') + quoted + QLatin1Char('"');
}

QString cell_text(const QVariant& v) {
  if (!v.isValid()) return {};
  const int type = v.typeId();
  if (type == QMetaType::Double || type == QMetaType::Float) {
    const double d = v.toDouble();
    return std::isfinite(d) ? csv_number(d) : QString();
  }
  return v.toString();
}

const char* kProperty = "moescope_view_export";

}  // namespace

QString csv_number(double value) {
  char buffer[64];
  const auto r = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest round trip
  return QString::fromLatin1(buffer, int(r.ptr - buffer));
}

QString to_csv(const ExportTable& table) {
  QString out;
  auto line = [&out](const QStringList& fields) {
    for (int i = 0; i < fields.size(); ++i) {
      if (i) out += QLatin1Char(',');
      out += csv_field(fields[i]);
    }
    out += QLatin1Char('\n');
  };
  line(table.header);
  for (const QStringList& row : table.rows) line(row);
  return out;
}

ExportTable table_from_model(const QAbstractItemModel& model, int role, bool row_headers) {
  ExportTable t;
  const int rows = model.rowCount();
  const int columns = model.columnCount();
  if (row_headers) t.header << QString();
  for (int c = 0; c < columns; ++c) {
    t.header << model.headerData(c, Qt::Horizontal, Qt::DisplayRole).toString();
  }
  for (int r = 0; r < rows; ++r) {
    QStringList row;
    if (row_headers) row << model.headerData(r, Qt::Vertical, Qt::DisplayRole).toString();
    for (int c = 0; c < columns; ++c) row << cell_text(model.index(r, c).data(role));
    t.rows << row;
  }
  return t;
}

bool write_file_atomically(const QString& path, const QByteArray& bytes, QString* error) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
    if (error) *error = QDir::toNativeSeparators(path) + QStringLiteral(": ") + file.errorString();
    return false;
  }
  return true;
}

bool save_widget_image(QWidget* widget, const QString& path, QString* error) {
  if (!widget) return false;
  if (path.endsWith(QLatin1String(".svg"), Qt::CaseInsensitive)) {
    QByteArray bytes;
    {
      QBuffer buffer(&bytes);
      buffer.open(QIODevice::WriteOnly);
      QSvgGenerator svg;
      svg.setOutputDevice(&buffer);
      svg.setSize(widget->size());
      svg.setViewBox(QRect(QPoint(0, 0), widget->size()));
      svg.setTitle(widget->window()->windowTitle());
      QPainter painter(&svg);
      widget->render(&painter);
    }
    return write_file_atomically(path, bytes, error);
  }
  const QImage image = widget->grab().toImage();
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  if (image.isNull() || !image.save(&buffer, "PNG")) {
    if (error) *error = QObject::tr("%1: cannot draw the view").arg(QDir::toNativeSeparators(path));
    return false;
  }
  return write_file_atomically(path, bytes, error);
}

ViewExport::ViewExport(QWidget* target, TableFn table, const QString& name, QWidget* picture)
    : QObject(target),
      target_(target),
      picture_(picture ? picture : target),
      table_(std::move(table)),
      name_(name) {
  target->setProperty(kProperty, QVariant::fromValue(static_cast<QObject*>(this)));
  target->installEventFilter(this);
}

ViewExport* ViewExport::of(const QWidget* target) {
  return target ? qobject_cast<ViewExport*>(target->property(kProperty).value<QObject*>())
                : nullptr;
}

bool ViewExport::saveImage(const QString& path, QString* error) const {
  return save_widget_image(picture_, path, error);
}

bool ViewExport::exportCsv(const QString& path, QString* error) const {
  return write_file_atomically(path, to_csv(table()).toUtf8(), error);
}

void ViewExport::copy() const {
  const ExportTable t = table();
  QString text = t.header.join(QLatin1Char('\t')) + QLatin1Char('\n');
  for (const QStringList& row : t.rows) text += row.join(QLatin1Char('\t')) + QLatin1Char('\n');
  auto* data = new QMimeData;
  data->setText(text);
  data->setData("text/csv", to_csv(t).toUtf8());
  if (picture_) data->setImageData(picture_->grab().toImage());
  QApplication::clipboard()->setMimeData(data);
}

QMenu* ViewExport::createMenu(QWidget* parent) const {
  auto* menu = new QMenu(parent);
  menu->setObjectName("viewExportMenu");
  QAction* copy = menu->addAction(tr("&Copy"), this, &ViewExport::copy);
  copy->setObjectName("exportCopy");
  copy->setToolTip(tr("Copies the view's table as text and its picture"));
  menu->addAction(tr("Save &image…"), this, &ViewExport::chooseImage)
      ->setObjectName("exportImage");
  menu->addAction(tr("Export C&SV…"), this, &ViewExport::chooseCsv)->setObjectName("exportCsv");
  return menu;
}

bool ViewExport::eventFilter(QObject* watched, QEvent* event) {
  if (watched == target_ && event->type() == QEvent::ContextMenu) {
    auto* e = static_cast<QContextMenuEvent*>(event);
    QMenu* menu = createMenu(target_);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    menu->popup(e->globalPos());
    return true;
  }
  return QObject::eventFilter(watched, event);
}

void ViewExport::chooseImage() const {
  QString filter;
  const QString path = QFileDialog::getSaveFileName(
      target_, tr("Save image"), name_ + ".png", tr("PNG image (*.png);;SVG image (*.svg)"),
      &filter);
  if (path.isEmpty()) return;
  QString file = path;
  if (QFileInfo(file).suffix().isEmpty()) file += filter.contains("svg") ? ".svg" : ".png";
  QString error;
  if (!saveImage(file, &error)) report(error);
}

void ViewExport::chooseCsv() const {
  const QString path = QFileDialog::getSaveFileName(target_, tr("Export CSV"), name_ + ".csv",
                                                    tr("CSV files (*.csv)"));
  if (path.isEmpty()) return;
  QString error;
  if (!exportCsv(path, &error)) report(error);
}

void ViewExport::report(const QString& error) const {
  QMessageBox::warning(target_, tr("Export failed"), error);
}

}  // namespace moescope::views
