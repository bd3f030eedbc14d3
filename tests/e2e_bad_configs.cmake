# e2e_bad_configs: every file of the bad-config corpus (tests/configs/*.ini) is refused with exit
# status 2 and exactly one line on stderr, `FILE:LINE: ...`, the one its first line announces:
#     ; expect: <CMake regex, with @FILE@ for the config file's name>
# A file that cannot hold that line (empty or binary) has it in a side file NAME.expect instead.
# No output file is created, neither the default out/NAME.h5 nor an explicit --output, and an
# existing output file is left byte-identical. Cases too large for the repository (an overlong
# line, a file over 1 MiB) and an HDF5 file given as config are made here. Under the sanitizers
# each file runs once (the default output), in the normal build three times.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

# A good output file that the failing runs below must not touch.
set(good ${WORK}/good.h5)
ars_run(r ${QUICKSTART} --set sampler.n_samples=64 --output ${good} --quiet)
ars_expect_rc(r 0 "writing the good output file")
file(SHA256 ${good} good_hash)

# Checks that running `name` (a file in WORK/<stem>/) is refused; `regex` may use @FILE@.
function(check_refused name regex)
    get_filename_component(stem ${name} NAME_WE)
    set(dir ${WORK}/${stem})
    ars_regex_escape(file_re ${name})
    string(REPLACE "@FILE@" "${file_re}" regex "${regex}")

    # 1. With the default output (out/<stem>.h5 in the current folder): nothing is created.
    ars_run(r DIR ${dir} ${name})
    ars_expect_rc(r 2 "${name}")
    ars_expect_one_line("${r_err}" "${regex}" "${name}: the message")
    ars_expect_match("${r_err}" "^${file_re}:[1-9][0-9]*: " "${name}: the message names FILE:LINE")
    ars_expect_match("${r_out}" "^$" "${name}: stdout")
    ars_files_in(files ${dir})
    if(NOT files STREQUAL name)
        ars_fail("${name}: the failed run left files behind: ${files}")
    endif()

    # Under the sanitizers one run per file covers the error path's memory use; 2 and 3 (the
    # same path with another output) run in the normal build.
    if(SANITIZED)
        return()
    endif()

    # 2. With an explicit --output in an empty scratch folder: nothing appears there.
    file(MAKE_DIRECTORY ${dir}-scratch)
    ars_run(r DIR ${dir} ${name} --output ${dir}-scratch/run.h5)
    ars_expect_rc(r 2 "${name} --output scratch/run.h5")
    ars_expect_one_line("${r_err}" "${regex}" "${name} --output scratch/run.h5: the message")
    ars_files_in(files ${dir}-scratch)
    if(NOT files STREQUAL "")
        ars_fail("${name}: the failed run wrote into the scratch folder: ${files}")
    endif()

    # 3. Over an existing output file: refused the same way, the file is untouched (and no
    #    numbered backup of it is made).
    ars_run(r DIR ${dir} ${name} --output ${good})
    ars_expect_rc(r 2 "${name} --output good.h5")
    ars_expect_one_line("${r_err}" "${regex}" "${name} --output good.h5: the message")
    file(SHA256 ${good} hash)
    if(NOT hash STREQUAL good_hash)
        ars_fail("${name}: the failed run changed ${good}")
    endif()
endfunction()

# Reads the "; expect: REGEX" first line of `path` into `out`.
function(read_expect out path)
    file(READ ${path} text LIMIT 4096)
    if(NOT text MATCHES "^; expect: ([^\n]+)\n")
        ars_fail("${path}: the first line must be '; expect: REGEX'")
    endif()
    set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()

file(GLOB corpus ${CMAKE_CURRENT_LIST_DIR}/configs/*.ini)
list(LENGTH corpus n_corpus)
if(n_corpus LESS 60)
    ars_fail("expected the bad-config corpus in ${CMAKE_CURRENT_LIST_DIR}/configs, found ${n_corpus}")
endif()
foreach(path ${corpus})
    get_filename_component(name ${path} NAME)
    get_filename_component(stem ${path} NAME_WE)
    if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/configs/${stem}.expect)
        read_expect(regex ${CMAKE_CURRENT_LIST_DIR}/configs/${stem}.expect)
    else()
        read_expect(regex ${path})
    endif()
    file(MAKE_DIRECTORY ${WORK}/${stem})
    file(COPY ${path} DESTINATION ${WORK}/${stem})
    check_refused(${name} "${regex}")
endforeach()

# Made here, to keep the corpus small and plain text.
foreach(stem garbage junk overlong_value overlong_line huge_file h5_as_config)
    file(MAKE_DIRECTORY ${WORK}/${stem})
endforeach()
# Binary garbage: every byte value (NUL included), and bytes >= 0x80 only (invalid UTF-8).
execute_process(COMMAND ${PYTHON} -c "
import sys
open(sys.argv[1], 'wb').write(bytes(range(256)) * 4)
open(sys.argv[2], 'wb').write(bytes(range(0x80, 0x100)) * 2 + b'\\n')
" ${WORK}/garbage/garbage.ini ${WORK}/junk/junk.ini RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    ars_fail("could not write the binary garbage files")
endif()
check_refused(garbage.ini "^@FILE@:1: binary content \\(a NUL byte\\); not a config file$")
check_refused(junk.ini
              "^@FILE@:1: expected 'key = value' or '\\[section\\]' \\(got '\\?+\\.\\.\\.'\\)$")

# An overlong line: a 200 000-character path (longer than any path), and a 1 000 000-character
# line that is not `key = value`; both quoted shortened in the message.
string(REPEAT "x" 200000 long)
file(WRITE ${WORK}/overlong_value/overlong_value.ini "[model]\ninit = runs/${long}.h5\n")
check_refused(overlong_value.ini
              "^@FILE@:2: \\[model\\] init: longer than 4095 characters \\(got 'runs/x+\\.\\.\\.'\\)$")
string(REPEAT "y" 1000000 long)
file(WRITE ${WORK}/overlong_line/overlong_line.ini "[system]\nsize = 16\n${long}\n")
check_refused(overlong_line.ini
              "^@FILE@:3: expected 'key = value' or '\\[section\\]' \\(got 'y+\\.\\.\\.'\\)$")

# A file over 1 MiB (a valid config padded with comments): refused as a whole before parsing,
# at the line where the limit falls.
string(REPEAT "; padding padding padding padding padding padding padding padding padding pad\n"
       16384 padding)
file(WRITE ${WORK}/huge_file/huge_file.ini "[system]\nsize = 16\n${padding}")
check_refused(huge_file.ini
              "^@FILE@:13446: larger than 1048576 bytes \\(1 MiB\\); not a config file$")

# An HDF5 file given where a config belongs (arsampler out/run.h5 instead of run.ini): its
# signature (\211 H D F \r \n \032 \n) puts the first NUL byte on line 3.
execute_process(COMMAND ${CMAKE_COMMAND} -E copy ${good} ${WORK}/h5_as_config/h5_as_config.h5)
check_refused(h5_as_config.h5 "^@FILE@:3: binary content \\(a NUL byte\\); not a config file$")

# A folder is not a config file either (the one refusal that is not about a file's content, so
# it is reported as "arsampler: error:", not FILE:LINE).
file(MAKE_DIRECTORY ${WORK}/folder/folder.ini)
ars_run(r DIR ${WORK}/folder folder.ini)
ars_expect_rc(r 2 "a folder as config")
ars_expect_one_line("${r_err}" "^arsampler: error: cannot read config file 'folder\\.ini'$"
                    "a folder as config")

# No temporary files or backups were left next to the good output.
ars_files_in(left ${WORK})
list(FILTER left INCLUDE REGEX "^good")
if(NOT left STREQUAL "good.h5")
    ars_fail("files next to good.h5: ${left}")
endif()
message(STATUS "${n_corpus} bad configs (plus 6 made here) refused as expected")
