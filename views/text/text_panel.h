#pragma once
// The text view with its controls: the measure tokens are coloured by, the layer for the
// "expert at layer" measure (the shared selection's layer), and the colour legend.
#include <QWidget>

class QComboBox;
class QLabel;
class QSpinBox;
class QTextBrowser;

namespace moescope::views {

class ColorLegend;
class SessionController;
class TokenTextView;

class TextPanel : public QWidget {
  Q_OBJECT
 public:
  explicit TextPanel(SessionController* session, QWidget* parent = nullptr);
  TokenTextView* textView() const { return view_; }
  QComboBox* measureBox() const { return measure_; }
  // The selected token's routing, pinned beside the text (the tooltip's content, selectable).
  QTextBrowser* tokenDetails() const { return details_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void updateLegend();
  void updateDetails();

  SessionController* session_;
  QLabel* measure_label_;
  QComboBox* measure_;
  QLabel* layer_label_;
  QSpinBox* layer_;
  ColorLegend* legend_;
  TokenTextView* view_;
  QTextBrowser* details_;
};

}  // namespace moescope::views
