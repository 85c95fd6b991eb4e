# Runs PROGRAM with ARGS and fails unless it exits with status 2 after printing exactly one
# line on stderr that contains EXPECTED (a bad flag is a message, never a crash).
execute_process(COMMAND ${PROGRAM} ${ARGS} RESULT_VARIABLE status ERROR_VARIABLE err OUTPUT_QUIET)
string(REGEX MATCHALL "\n" newlines "${err}")
list(LENGTH newlines lines)
string(FIND "${err}" "${EXPECTED}" found)
if(NOT status EQUAL 2 OR NOT lines EQUAL 1 OR found EQUAL -1)
  message(FATAL_ERROR "expected status 2 and one line with '${EXPECTED}', got ${status}: ${err}")
endif()
