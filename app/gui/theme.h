#pragma once
// Light and dark palettes (Fusion style), or the platform's own.
#include <QString>

namespace moescope::gui {

enum class Theme { kSystem, kLight, kDark };

Theme theme_from_name(const QString& name);  // "system", "light", "dark"; else kSystem
QString theme_name(Theme theme);
void apply_theme(Theme theme);

}  // namespace moescope::gui
