# Configures, builds and runs the consumer project. Invoked by CTest with -D variables:
# MODE (installed | subdirectory), SOURCE_DIR (tapegrad), BUILD_DIR (tapegrad's build),
# WORK_DIR (scratch), GENERATOR.
file(REMOVE_RECURSE ${WORK_DIR})
set(consumer_args -DTAPEGRAD_CONSUME=${MODE})
if(MODE STREQUAL "installed")
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                  RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "installing tapegrad into ${WORK_DIR}/prefix failed")
  endif()
  list(APPEND consumer_args -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
  list(APPEND consumer_args -DTAPEGRAD_SOURCE_DIR=${SOURCE_DIR})
endif()
foreach(step
    "${CMAKE_COMMAND};-S;${SOURCE_DIR}/tests/consumer;-B;${WORK_DIR}/build;-G;${GENERATOR};${consumer_args}"
    "${CMAKE_COMMAND};--build;${WORK_DIR}/build;--parallel;2"
    "${WORK_DIR}/build/consumer")
  execute_process(COMMAND ${step} RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "consumer step failed: ${step}")
  endif()
endforeach()
