# Runs PROGRAM twice and fails unless the outputs agree once the timing fields ("  12345
# samples/s", padding included) and the first line (which names the thread count and the CPU
# level) are removed: the same seed must give the same results. The first run gets ARGS; the
# second gets ARGS2 (default: ARGS) with the environment settings ENV2 (e.g. TAPEGRAD_CPU=baseline).
if(NOT DEFINED ARGS2)
  set(ARGS2 ${ARGS})
endif()
foreach(run 1 2)
  if(run EQUAL 1)
    execute_process(COMMAND ${PROGRAM} ${ARGS} OUTPUT_VARIABLE out${run} RESULT_VARIABLE failed)
  else()
    execute_process(COMMAND ${CMAKE_COMMAND} -E env ${ENV2} ${PROGRAM} ${ARGS2}
                    OUTPUT_VARIABLE out${run} RESULT_VARIABLE failed)
  endif()
  if(failed)
    message(FATAL_ERROR "${PROGRAM} failed")
  endif()
  string(REGEX REPLACE " *[0-9.]+ samples/s" "" out${run} "${out${run}}")
  string(REGEX REPLACE "^[^\n]*\n" "" out${run} "${out${run}}")
endforeach()
if(NOT out1 STREQUAL out2)
  message(FATAL_ERROR "the two runs differ:\n${out1}\n---\n${out2}")
endif()
