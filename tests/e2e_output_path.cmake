# e2e_output_path: an output path that cannot be written is refused (exit 2) before any
# sampling; missing parent folders are created.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

set(common ${QUICKSTART} --set sampler.n_samples=64)

# A path component that is a regular file. Not --quiet: nothing of the run may be printed.
file(WRITE ${WORK}/regular "a file, not a folder\n")
ars_run(r ${common} --output regular/x.h5)
ars_expect_rc(r 2 "output under a regular file")
ars_expect_one_line("${r_err}" "^arsampler: error: .*regular" "output under a regular file")
ars_expect_no_match("${r_out}" "sampling" "output under a regular file: no sampling (stdout)")
ars_expect_no_match("${r_err}" "sampling" "output under a regular file: no sampling (stderr)")

# Deeper below a regular file.
ars_run(r ${common} --output regular/sub/dir/x.h5)
ars_expect_rc(r 2 "output two folders below a regular file")
ars_expect_one_line("${r_err}" "^arsampler: error: .*regular" "output below a regular file")

# An existing folder as the output file.
file(MAKE_DIRECTORY ${WORK}/folder.h5)
ars_run(r ${common} --output folder.h5)
ars_expect_rc(r 2 "output is a folder")
ars_expect_one_line("${r_err}" "^arsampler: error: .*folder\\.h5.*folder" "output is a folder")
ars_expect_no_match("${r_out}" "sampling" "output is a folder: no sampling")

# The message names where the path was set: the config's line.
file(READ ${QUICKSTART} quick)
string(FIND "${quick}" "file = out/quickstart.h5" at)
string(SUBSTRING "${quick}" 0 ${at} before)
string(REGEX MATCHALL "\n" newlines "${before}")
list(LENGTH newlines line)
math(EXPR line "${line} + 1")
string(REPLACE "file = out/quickstart.h5" "file = regular/y.h5" quick "${quick}")
file(WRITE ${WORK}/out_in_config.ini "${quick}")
ars_run(r ${WORK}/out_in_config.ini --set sampler.n_samples=64)
ars_expect_rc(r 2 "output under a regular file, set in the config")
ars_expect_one_line("${r_err}"
                    "^arsampler: error: [^ ]*out_in_config\\.ini:${line}: \\[output\\] file: .*regular"
                    "output under a regular file, set in the config")

# An empty path component is fine; missing folders are created.
ars_run(r ${common} --output new/sub//x.h5 --quiet)
ars_expect_rc(r 0 "output in folders to create")
if(NOT EXISTS ${WORK}/new/sub/x.h5)
    ars_fail("new/sub/x.h5 was not written")
endif()
