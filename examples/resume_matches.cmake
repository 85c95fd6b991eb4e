# Trains 2 epochs uninterrupted, and 2 epochs as 1 + resume, both saving a checkpoint after
# each epoch; the two final checkpoints must be identical byte for byte. EXTRA_ARGS (optional)
# are added to every run; LAUNCHER (optional, a list) comes before the program, e.g. mpirun.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(common --epochs 2 --seed 3 --data-dir /usr/share/datasets/fashion-mnist ${EXTRA_ARGS})
foreach(args
    "${common};--save;${WORK_DIR}/whole.ckpt"
    "${common};--save;${WORK_DIR}/split.ckpt;--stop-after;1"
    "${common};--save;${WORK_DIR}/split.ckpt;--resume;${WORK_DIR}/split.ckpt")
  execute_process(COMMAND ${LAUNCHER} ${PROGRAM} ${args} RESULT_VARIABLE failed OUTPUT_VARIABLE out)
  if(failed)
    message(FATAL_ERROR "${PROGRAM} ${args} failed:\n${out}")
  endif()
endforeach()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK_DIR}/whole.ckpt
                        ${WORK_DIR}/split.ckpt RESULT_VARIABLE differ)
if(differ)
  message(FATAL_ERROR "the resumed run's checkpoint differs from the uninterrupted run's")
endif()
message("resumed run is bit-identical to the uninterrupted one")
