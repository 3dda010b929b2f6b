#pragma once
// Fields (spin boxes, combo boxes, sliders) take the mouse wheel only when they have the focus:
// over an unfocused field the wheel scrolls the panel around it, as in every settings dialog
// users trust. One event filter, installed on every field under a widget.
class QWidget;

namespace moescope::views {

// Guards every spin box, combo box and slider under `root` (and `root` itself). Call it again
// after adding fields; guarding a field twice is harmless.
void install_wheel_guard(QWidget* root);

}  // namespace moescope::views
