# e2e_regression: every config of data/regress gives the same results, bit for bit, as the
# reference files made before the architecture rewrite (commit 4219e06; the SR-trained ones
# remade for issue 16's blocked Cholesky; scripts/regress): the samples, log-probabilities,
# trained variables, training logs, observables and attributes.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

set(REGRESS ${SRC}/scripts/regress)

execute_process(COMMAND ${PYTHON} ${REGRESS} check ${ARSAMPLER} --work ${WORK}/now
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("results changed against data/regress (exit ${rc}):\n${out}${err}")
endif()

# The comparison is not vacuous: a learning rate changed in the 7th digit is caught.
execute_process(COMMAND ${PYTHON} ${REGRESS} check ${ARSAMPLER} --work ${WORK}/changed
                        --only train_xxz_sector --set vmc.learning_rate=0.0500001
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1)
    ars_fail("a changed learning rate was not caught (exit ${rc}):\n${out}${err}")
endif()
ars_expect_match("${out}" "/variables/params/layers_0/kernel: [0-9]+ of [0-9]+ values differ"
                 "the changed run's variables")
