#pragma once
// Every view exports the same way: right-click -> Copy (the table as text and the picture),
// Save image… (PNG or SVG, by the name's suffix) and Export CSV… of exactly what the view shows.
// A view hands a ViewExport the widget to picture and a function returning its table; the
// context menu, the dialogs and the file writing (temporary file + rename) live here only.
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>

#include <functional>

class QAbstractItemModel;
class QMenu;
class QWidget;

namespace moescope::views {

// What a view shows, as a table: a header row and data rows of plain values (numbers unformatted,
// "." decimal point, so that spreadsheets and scripts read them alike).
struct ExportTable {
  QStringList header;
  QList<QStringList> rows;
};

// RFC 4180 CSV: fields with a comma, quote or line break are quoted, lines end in "\n".
QString to_csv(const ExportTable& table);
// The cells of a table model: `role` of every cell (a double as a plain number, NaN or an
// invalid value as an empty field). With `row_headers` a first column holds the vertical headers.
ExportTable table_from_model(const QAbstractItemModel& model, int role = Qt::DisplayRole,
                             bool row_headers = false);
// A number as CSV writes it: shortest round-trip form, "." decimal point.
QString csv_number(double value);
// Writes `bytes` through a temporary file renamed into place: never a half-written file.
bool write_file_atomically(const QString& path, const QByteArray& bytes, QString* error);
// The widget as a PNG (its size in device pixels) or an SVG (its size), by the suffix.
bool save_widget_image(QWidget* widget, const QString& path, QString* error);

class ViewExport : public QObject {
  Q_OBJECT
 public:
  using TableFn = std::function<ExportTable()>;
  // Right-clicking `target` (or a child of it that has no menu of its own) opens the menu.
  // `picture` is what the image shows (`target` when null); `name` the files' default name.
  ViewExport(QWidget* target, TableFn table, const QString& name, QWidget* picture = nullptr);

  // The ViewExport attached to `target`, or null.
  static ViewExport* of(const QWidget* target);

  ExportTable table() const { return table_(); }
  QWidget* picture() const { return picture_; }
  bool saveImage(const QString& path, QString* error = nullptr) const;
  bool exportCsv(const QString& path, QString* error = nullptr) const;
  // The table (tab-separated, for pasting into a spreadsheet) and the picture to the clipboard.
  void copy() const;
  // The menu the right-click shows (the caller owns it).
  QMenu* createMenu(QWidget* parent) const;

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void chooseImage() const;
  void chooseCsv() const;
  void report(const QString& error) const;

  QPointer<QWidget> target_;
  QPointer<QWidget> picture_;
  TableFn table_;
  QString name_;
};

}  // namespace moescope::views
