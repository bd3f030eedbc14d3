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

# scripts/compare_trajectories.py, the statistical comparison for a deliberate change of
# arithmetic: a binary against itself agrees with no differing iteration; a change in the 7th
# digit of the learning rate differs from iteration 1 but agrees statistically; no training at
# all (learning rate 0) is caught. A Python script over 54 short runs: the normal build only.
if(SANITIZED)
    return()
endif()
# compare(work rc what [--new-set KEY=VALUE]): runs the comparison, expects exit status rc.
function(compare work rc what)
    execute_process(COMMAND ${PYTHON} ${SRC}/scripts/compare_trajectories.py ${ARSAMPLER}
                            ${ARSAMPLER} ${SRC}/data/regress/train_xxz_sector.ini --seeds 1,2,3
                            --iterations 8 --final-samples 512 --work ${WORK}/${work} ${ARGN}
                    RESULT_VARIABLE got OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT got EQUAL rc)
        ars_fail("compare_trajectories: ${what} (exit ${got}, expected ${rc}):\n${out}${err}")
    endif()
    set(out "${out}" PARENT_SCOPE)
endfunction()
compare(cmp_same 0 "a binary against itself")
ars_expect_count("${out}" "\n +[123] +none " 3 "no differing iteration for the same binary")
compare(cmp_lr 0 "a 7th-digit change" --new-set vmc.learning_rate=0.0500001)
ars_expect_count("${out}" "\n +[123] +1 " 3 "the 7th-digit change differing from iteration 1")
compare(cmp_frozen 1 "no training" --new-set vmc.learning_rate=0)
ars_expect_match("${out}" "DISAGREE" "the verdict on an untrained run")
