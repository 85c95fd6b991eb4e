# Trains one epoch in one process and in 2 ranks under mpirun (loopback, timeout), saving a
# checkpoint each; rank 0's checkpoint must equal the one process's byte for byte.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(common --epochs 1 --seed 3 --data-dir /usr/share/datasets/fashion-mnist)
set(mpirun timeout 120 ${MPIEXEC} --allow-run-as-root --oversubscribe --bind-to none
    --mca btl self,vader,tcp --mca btl_tcp_if_include lo -np 2)
foreach(run "${PROGRAM};${common};--save;${WORK_DIR}/one.ckpt"
            "${mpirun};${PROGRAM};${common};--save;${WORK_DIR}/two.ckpt")
  execute_process(COMMAND ${run} RESULT_VARIABLE failed OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(failed)
    message(FATAL_ERROR "${run} failed (${failed}):\n${out}\n${err}")
  endif()
endforeach()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK_DIR}/one.ckpt
                        ${WORK_DIR}/two.ckpt RESULT_VARIABLE differ)
file(REMOVE_RECURSE ${WORK_DIR})
if(differ)
  message(FATAL_ERROR "the 2-rank run's checkpoint differs from the one process's")
endif()
message("2 ranks wrote the bits of one process")
