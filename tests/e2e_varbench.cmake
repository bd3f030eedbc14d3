# e2e_varbench: scripts/varbench on a short training run of the Heisenberg ring of 8 sites
# (whose reference energy the training log takes from the Bethe ansatz with no exact_energy key);
# tests/e2e/check_varbench.py compares every number it prints with the file.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

file(WRITE ${WORK}/train.ini "[run]
mode = train
[system]
size = 8
total_sz = 0
[model]
layers = 2
features = 4
kernel_size = 3
[sampler]
n_samples = 64
seed = 3
[hamiltonian]
type = heisenberg
pbc = true
marshall_sign = true
[vmc]
iterations = 5
final_samples = 256
[output]
file = train.h5
")
ars_run(train train.ini --threads 1)
ars_expect_rc(train 0 "the training run")
execute_process(COMMAND ${PYTHON} ${CMAKE_CURRENT_LIST_DIR}/e2e/check_varbench.py
                        ${SRC}/scripts/varbench ${WORK}/train.h5 ${WORK}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("scripts/varbench:\n${out}${err}")
endif()
message(STATUS "${out}")
