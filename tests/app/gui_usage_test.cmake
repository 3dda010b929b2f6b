# Without a subcommand and without a display, `moescope` prints its usage and exits with 2
# (the desktop app needs a display). Run with -DMOESCOPE=path/to/moescope.
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env --unset=DISPLAY --unset=WAYLAND_DISPLAY --unset=QT_QPA_PLATFORM
          ${MOESCOPE}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "expected exit code 2 without a display, got ${rc}: ${out}${err}")
endif()
if(NOT out MATCHES "Usage: moescope COMMAND" OR NOT out MATCHES "a display is needed")
  message(FATAL_ERROR "expected the usage text, got: ${out}${err}")
endif()
# A subcommand still works without a display.
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env --unset=DISPLAY --unset=WAYLAND_DISPLAY --unset=QT_QPA_PLATFORM
          ${MOESCOPE} --version
  RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^moescope ")
  message(FATAL_ERROR "moescope --version failed without a display: ${rc} ${out}")
endif()
