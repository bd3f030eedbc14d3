# e2e_quickstart: the shipped quick-start config runs and its output passes the format checker.
#   cmake -DARSAMPLER=<binary> -DSRC=<source tree> -DWORK=<scratch folder> -P e2e_quickstart.cmake
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

set(out ${WORK}/quickstart.h5)
ars_run(run ${QUICKSTART} --set output.file=${out} --set sampler.n_samples=512 --quiet)
ars_expect_rc(run 0 "arsampler configs/quickstart.ini")
if(NOT EXISTS ${out})
    ars_fail("arsampler exited 0 but wrote no ${out}")
endif()
# --quiet: nothing on stdout, nothing on stderr (no progress line, no warning).
ars_expect_match("${run_out}" "^$" "stdout with --quiet")
ars_expect_match("${run_err}" "^$" "stderr with --quiet")

execute_process(COMMAND ${PYTHON} ${SRC}/scripts/check_output.py ${out} --n-samples 512
                RESULT_VARIABLE rc OUTPUT_VARIABLE check_out ERROR_VARIABLE check_err)
if(NOT rc EQUAL 0)
    ars_fail("check_output.py ${out} failed (${rc}):\n${check_out}${check_err}")
endif()
message(STATUS "${check_out}")
