# e2e_netket: scripts/netket-convert moves ARNNConv1D weights between NetKet's Flax msgpack and
# arsampler's HDF5, keeping NetKet's semantics under both local-state orders (the checks are in
# tests/netket/check_netket_convert.py).
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

execute_process(COMMAND ${PYTHON} ${SRC}/tests/netket/check_netket_convert.py ${ARSAMPLER} ${SRC}
                        ${WORK}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("netket-convert checks failed (${rc}):\n${out}${err}")
endif()
