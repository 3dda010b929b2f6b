#include "storage/report/pdf/pdf_report.h"

#include <QAbstractTextDocumentLayout>
#include <QBuffer>
#include <QGuiApplication>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgRenderer>
#include <QTextBlock>
#include <QTextDocument>

#include <algorithm>
#include <memory>

#include "engine/common/atomic_file.h"
#include "engine/common/error.h"
#include "storage/report/escape.h"
#include "storage/report/html_report.h"

namespace moescope::storage::report {
namespace {

// CSS px: the writer's resolution is 96 dpi so that the charts' sizes mean what they do in HTML.
constexpr int kDpi = 96;
// A chart is shrunk down to this much to fit the rest of a page instead of starting a new one.
constexpr double kMinScale = 0.8;

class PageFlow {
 public:
  PageFlow(QPdfWriter& writer, QPainter& painter) : writer_(writer), painter_(painter) {
    const QRect r = writer.pageLayout().paintRectPixels(kDpi);
    width_ = r.width();
    height_ = r.height();
  }

  double width() const { return width_; }

  // The least height a block takes at the page's width (a chart may shrink to kMinScale).
  double measure(const ReportBlock& block) {
    if (block.kind == ReportBlock::Kind::kSvg) return svg_size(block).height() * kMinScale;
    QTextDocument doc;
    setup(doc, block.content);
    return doc.size().height();
  }

  // keep_with_next: room to leave below the fragment for what follows (a heading's content).
  void html(const std::string& fragment, double keep_with_next = 0) {
    QTextDocument doc;
    setup(doc, fragment);
    const double h = doc.size().height();
    keep_with_next = std::min(keep_with_next, height_ - h);
    if (h + keep_with_next <= remaining()) {
      draw(doc, 0, h);
      y_ += h;
      return;
    }
    if (h <= height_) {
      new_page();
      draw(doc, 0, h);
      y_ += h;
      return;
    }
    // Longer than a page: let QTextDocument break it between lines.
    if (y_ > 0) new_page();
    doc.setPageSize(QSizeF(width_, height_));
    const int pages = doc.pageCount();
    for (int i = 0; i < pages; ++i) {
      if (i) new_page();
      draw(doc, i * height_, height_);
    }
    const QRectF last = doc.documentLayout()->blockBoundingRect(doc.lastBlock());
    y_ = std::clamp(last.bottom() - (pages - 1) * height_, 0.0, height_);
  }

  void svg(const ReportBlock& block) {
    // The namespace URL lives only in what QSvgRenderer parses, not in the report's HTML.
    std::string text = block.content;
    if (text.rfind("<svg ", 0) == 0) text.insert(5, "xmlns=\"http://www.w3.org/2000/svg\" ");
    QSvgRenderer renderer(QByteArray::fromStdString(text));
    if (!renderer.isValid()) fail("internal error: a report chart is not valid SVG");
    QSizeF size = svg_size(block);
    if (size.height() > remaining()) {
      // Shrink a little rather than leave most of a page empty.
      const double fit = remaining() / size.height();
      if (fit >= kMinScale) {
        size *= fit;
      } else {
        new_page();
      }
    }
    renderer.render(&painter_, QRectF(QPointF(0, y_), size));
    y_ += size.height() + 10;
  }

  void space(double px) { y_ = std::min(height_, y_ + px); }

 private:
  double remaining() const { return height_ - y_; }

  void setup(QTextDocument& doc, const std::string& fragment) {
    doc.setDocumentMargin(0);
    // Tables get a smaller font than on screen: an A4 column is narrower than a browser window.
    doc.setDefaultStyleSheet(
        QString::fromStdString(report_css() + "table.grid td, table.grid th { font-size: 11px; }\n"
                                              "h1 { font-size: 20px; }\n"
                                              "span.big { font-size: 16px; }\n"));
    QFont font("DejaVu Sans");
    font.setPixelSize(13);
    doc.setDefaultFont(font);
    doc.documentLayout()->setPaintDevice(&writer_);
    doc.setHtml(QString::fromStdString(fragment));
    doc.setTextWidth(width_);
  }

  // A chart at its HTML size, scaled down to fit the page.
  QSizeF svg_size(const ReportBlock& block) const {
    const double scale = std::min({1.0, width_ / block.width, height_ / block.height});
    return {block.width * scale, block.height * scale};
  }

  void new_page() {
    if (!writer_.newPage()) fail("cannot start a new PDF page");
    y_ = 0;
  }

  // Draws the part [from, from + h) of doc at the cursor.
  void draw(QTextDocument& doc, double from, double h) {
    painter_.save();
    painter_.translate(0, y_ - from);
    doc.drawContents(&painter_, QRectF(0, from, width_, h));
    painter_.restore();
  }

  QPdfWriter& writer_;
  QPainter& painter_;
  double width_ = 0;
  double height_ = 0;
  double y_ = 0;
};

}  // namespace

std::string render_pdf(const ReportDocument& document) {
  if (!qobject_cast<QGuiApplication*>(QCoreApplication::instance())) {
    fail("internal error: writing a PDF needs a QGuiApplication");
  }
  // In memory: QPdfWriter does not report failed writes to a file (a full disk would give a
  // truncated PDF); the caller writes the bytes with every write checked.
  QByteArray bytes;
  {
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    QPdfWriter writer(&buffer);
    writer.setResolution(kDpi);
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize::A4), QPageLayout::Portrait,
                                     QMarginsF(12, 12, 12, 12), QPageLayout::Millimeter));
    writer.setTitle(QString::fromStdString(document.title));
    writer.setCreator("MoEScope");
    QPainter painter;
    if (!painter.begin(&writer)) fail("cannot start the PDF");
    PageFlow flow(writer, painter);
    flow.html("<h1>" + xml_escape(document.title) + "</h1>");
    // A heading, or a short text before a chart, stays on the page of what follows it.
    constexpr double kKeepAtMost = 400;
    for (const ReportSection& s : document.sections) {
      flow.space(14);
      double first = s.blocks.empty() ? 0 : flow.measure(s.blocks.front());
      if (s.blocks.size() > 1 && s.blocks[0].kind == ReportBlock::Kind::kHtml &&
          s.blocks[1].kind == ReportBlock::Kind::kSvg) {
        first += flow.measure(s.blocks[1]);
      }
      flow.html("<h2>" + xml_escape(s.title) + "</h2>", std::min(first, kKeepAtMost));
      for (size_t i = 0; i < s.blocks.size(); ++i) {
        const ReportBlock& b = s.blocks[i];
        if (b.kind == ReportBlock::Kind::kSvg) {
          flow.svg(b);
          continue;
        }
        double keep = 0;
        if (i + 1 < s.blocks.size() && s.blocks[i + 1].kind == ReportBlock::Kind::kSvg) {
          keep = flow.measure(s.blocks[i + 1]);
        }
        flow.html(b.content, keep);
      }
    }
    if (!painter.end()) fail("cannot finish the PDF");
  }
  if (bytes.isEmpty()) fail("cannot write the PDF");
  return bytes.toStdString();
}

void write_pdf(const ReportDocument& document, const std::filesystem::path& path) {
  write_file_atomically(path, render_pdf(document));
}

}  // namespace moescope::storage::report
