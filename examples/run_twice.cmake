# Runs PROGRAM twice with ARGS and fails unless the outputs agree once timing figures
# (samples/s) are removed: the same seed and thread count must give the same results.
foreach(run 1 2)
  execute_process(COMMAND ${PROGRAM} ${ARGS} OUTPUT_VARIABLE out${run} RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "${PROGRAM} failed")
  endif()
  string(REGEX REPLACE "[0-9]+ samples/s" "" out${run} "${out${run}}")
endforeach()
if(NOT out1 STREQUAL out2)
  message(FATAL_ERROR "two runs with the same seed differ:\n${out1}\n---\n${out2}")
endif()
