# e2e_complex_sr: the complex SR step (opt/sr.h, ars_sr_direction_split) against a dense numpy
# reference written in complex arithmetic without the block structure
# (tests/phase/complex_sr_reference.py), on the shapes of test_phase: both blocks in sample
# space, the modulus's only, neither.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)
execute_process(COMMAND ${CMAKE_COMMAND} -E env ARS_COMPLEX_SR_DUMP=${WORK}/complex_sr.txt
                        ${TEST_PHASE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("test_phase with the dump failed (${rc}):\n${out}${err}")
endif()
execute_process(COMMAND ${PYTHON} ${SRC}/tests/phase/complex_sr_reference.py ${WORK}/complex_sr.txt
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^OK")
    ars_fail("the numpy reference of the complex SR step (${rc}):\n${out}${err}")
endif()
message(STATUS "${out}")
