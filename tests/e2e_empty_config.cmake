# e2e_empty_config: an empty config file is valid and means "all defaults"; the default output
# is out/<config name>.h5, relative to the current directory.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

file(WRITE ${WORK}/empty.ini "")
ars_run(a empty.ini --print-config)
ars_expect_rc(a 0 "an empty config file")
ars_run(b --print-config --set output.file=out/empty.h5)
ars_expect_rc(b 0 "--print-config of the defaults")
if(NOT a_out STREQUAL b_out)
    ars_fail("an empty config differs from the defaults:\n${a_out}\nvs\n${b_out}")
endif()
ars_expect_match("${a_out}" "\n\\[output\\]\nfile = out/empty\\.h5\n" "the derived output file")

# A file of comments and blank lines only is the same.
file(WRITE ${WORK}/comments.ini "; nothing but comments\n\n# and blank lines\n   \n")
ars_run(c comments.ini --print-config --set output.file=out/empty.h5)
ars_expect_rc(c 0 "a config of comments only")
if(NOT c_out STREQUAL b_out)
    ars_fail("a config of comments differs from the defaults:\n${c_out}")
endif()

# Running it writes out/empty.h5 under the current directory (here: a subfolder of WORK).
file(MAKE_DIRECTORY ${WORK}/cwd)
ars_run(r DIR ${WORK}/cwd ../empty.ini --set sampler.n_samples=64 --quiet)
ars_expect_rc(r 0 "running an empty config")
if(NOT EXISTS ${WORK}/cwd/out/empty.h5)
    ars_files_in(files ${WORK})
    ars_fail("expected the output cwd/out/empty.h5; found: ${files}")
endif()
