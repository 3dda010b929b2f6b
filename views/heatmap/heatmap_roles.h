#pragma once
// Item data roles the heatmap models provide and HeatmapView paints from.
#include <Qt>

namespace moescope::views {

enum HeatmapRole {
  kValueRole = Qt::UserRole + 1,  // double in [0, 1] for the colour map, NaN: no value
  kRawValueRole,                  // double: the number the cell stands for
  kHighlightRole,                 // bool: on the selected token's path / the selected row
  kMarkRole,                      // bool: a corner mark (a cache miss)
};

}  // namespace moescope::views
