# Shared by the CLI test scripts (cmake -P): failed() counts a failure without stopping the
# script, run_moescope() runs ${MOESCOPE} with ARGN and sets rc, out (stripped) and err.
set(failures 0)
macro(failed)
  message(SEND_ERROR ${ARGN})
  math(EXPR failures "${failures} + 1")
endmacro()

function(run_moescope)
  execute_process(COMMAND "${MOESCOPE}" ${ARGN}
                  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE error)
  string(STRIP "${output}" output)
  set(rc "${result}" PARENT_SCOPE)
  set(out "${output}" PARENT_SCOPE)
  set(err "${error}" PARENT_SCOPE)
endfunction()
