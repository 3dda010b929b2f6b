#pragma once
// What the text view colours tokens by, computed from a RunData. Values are normalised to [0, 1]
// for the colour map; NaN means "not known (yet)": no routing, or no analysis of the token.
#include <QColor>
#include <QString>

#include <cmath>

namespace moescope::views {

class RunData;

enum class TokenMeasure {
  kNone,     // plain text
  kMisses,   // share of the token's expert selections the chosen policy missed
  kStall,    // time the token's forward waited for experts (measured, else modelled)
  kExpert,   // the top-1 expert at the selected layer (categorical)
  kEntropy,  // mean router entropy over the layers, relative to log2(n_experts); of the
             // normalised top-k weights, relative to log2(k), when the logits are unknown
};

struct MeasureScale {
  double max_stall_ns = 0;  // over decode tokens: the prefill chunk would drown them
  bool stall_measured = false;
};

MeasureScale measure_scale(const RunData& run);
// Raw value: miss share, stall ns, expert id, entropy bits. NaN when unknown.
double raw_measure(const RunData& run, TokenMeasure measure, int token, int layer);
// The token's background colour, or an invalid QColor for no colouring.
QColor measure_color(const RunData& run, const MeasureScale& scale, TokenMeasure measure, int token,
                     int layer);

}  // namespace moescope::views
