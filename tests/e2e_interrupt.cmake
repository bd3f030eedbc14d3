# e2e_interrupt: long runs survive interruption and never destroy earlier results
# (tests/e2e/interrupt.sh):
#  - SIGTERM / SIGINT during training: the iteration finishes, a checkpoint is written, exit
#    status 143 / 130, and --resume completes the run bitwise equal to an uninterrupted one;
#  - a second signal exits at once;
#  - SIGKILL at a random moment, twice: the last checkpoint is intact and --resume reaches the
#    uninterrupted result bit for bit;
#  - an existing output is kept as FILE.~1~, FILE.~2~ with a note; --force replaces it; a
#    rejected config changes nothing; --resume --force is refused.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

set(sizes "")
if(SANITIZED)
    set(sizes 100 2048)
endif()
execute_process(COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/e2e/interrupt.sh ${ARSAMPLER} ${WORK} ${SRC} ${sizes}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "${out}")
if(NOT rc EQUAL 0)
    ars_fail("interrupt.sh failed (${rc}):\n${out}${err}")
endif()
