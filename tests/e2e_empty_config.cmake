# e2e_empty_config: an empty config file (or one of comments and blank lines only) is a config
# error: exit status 2, one FILE:LINE message, nothing written; --print-config without a
# config file shows every default.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

file(MAKE_DIRECTORY ${WORK}/cwd)
file(WRITE ${WORK}/empty.ini "")
file(WRITE ${WORK}/comments.ini "; nothing but comments\n\n# and blank lines\n   \n")
foreach(name empty comments)
    ars_run(a DIR ${WORK}/cwd ../${name}.ini --set sampler.n_samples=64)
    ars_expect_rc(a 2 "${name}.ini")
    ars_expect_match("${a_err}" "^\\.\\./${name}\\.ini:1: empty config file: no \\[section\\] and no key \\(a config sets at least one key; `arsampler --print-config` shows the defaults\\)\n$"
                     "the message for ${name}.ini")
    if(EXISTS ${WORK}/cwd/out)
        ars_fail("${name}.ini: a rejected config created cwd/out")
    endif()
endforeach()

# One key is enough: every other key takes its default; output out/<config name>.h5.
file(WRITE ${WORK}/one.ini "[sampler]\nn_samples = 64\n")
ars_run(a DIR ${WORK}/cwd ../one.ini --print-config)
ars_expect_rc(a 0 "a config of one key")
ars_run(b DIR ${WORK}/cwd --print-config --set sampler.n_samples=64 --set output.file=out/one.h5)
ars_expect_rc(b 0 "--print-config of the defaults")
if(NOT a_out STREQUAL b_out)
    ars_fail("a one-key config differs from the defaults:\n${a_out}\nvs\n${b_out}")
endif()
ars_run(r DIR ${WORK}/cwd ../one.ini --quiet)
ars_expect_rc(r 0 "running a one-key config")
if(NOT EXISTS ${WORK}/cwd/out/one.h5)
    ars_files_in(files ${WORK})
    ars_fail("expected the output cwd/out/one.h5; found: ${files}")
endif()
