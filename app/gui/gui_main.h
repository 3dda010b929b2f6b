#pragma once
// The desktop app's entry point: `moescope [--lang L] [--model FILE] [TRACE.sqlite]`.
namespace moescope::gui {

// True when a window can be shown: a display server is named (DISPLAY, WAYLAND_DISPLAY) or a Qt
// platform is forced (QT_QPA_PLATFORM, e.g. offscreen).
bool display_available();
// Creates the QApplication and runs the main window until it closes. Returns the exit code
// (2 for bad options, with a one-line message).
int run_gui(int argc, char** argv);

}  // namespace moescope::gui
