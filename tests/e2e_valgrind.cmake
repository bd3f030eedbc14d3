# e2e_valgrind: valgrind's memcheck finds no invalid access and no definite or indirect leak in
# an end-to-end run: a short training with every observable, then sampling from its variables.
# (libgomp keeps its thread pool's stacks until exit: "possibly lost", not counted.)
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

find_program(VALGRIND valgrind)
if(NOT VALGRIND)
    ars_fail("valgrind not found: run scripts/bootstrap (it installs it)")
endif()
file(WRITE ${WORK}/v.ini "[run]
mode = train
[system]
size = 8
[model]
layers = 2
features = 4
kernel_dilation = 1, 2
[sampler]
n_samples = 64
chunk_size = 32
[hamiltonian]
type = tfim
[vmc]
iterations = 3
checkpoint_every = 2
final_samples = 64
[observables]
names = all
renyi2_cuts = 2, 4
")
set(vg ${VALGRIND} --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=3
       --quiet)
execute_process(COMMAND ${vg} ${ARSAMPLER} v.ini -q --threads 2 --output train.h5
                WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("valgrind on a training run: exit status ${rc}\n${out}${err}")
endif()
execute_process(COMMAND ${vg} ${ARSAMPLER} v.ini -q --threads 2 --output sample.h5
                        --set run.mode=sample --set model.init=train.h5
                WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("valgrind on a sampling run from trained variables: exit status ${rc}\n${out}${err}")
endif()
