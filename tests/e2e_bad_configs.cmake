# e2e_bad_configs: every file of the bad-config corpus (tests/configs/*.ini) is refused with exit
# status 2 and exactly one line on stderr, the one its first line announces:
#     ; expect: <CMake regex, with @FILE@ for the config file's name>
# No output file is created, and an existing output file is left byte-identical.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

# A good output file that the failing runs below must not touch.
set(good ${WORK}/good.h5)
ars_run(r ${QUICKSTART} --set sampler.n_samples=64 --output ${good} --quiet)
ars_expect_rc(r 0 "writing the good output file")
file(SHA256 ${good} good_hash)

# Runs the config `name` (a file in WORK/<stem>/) and checks the refusal.
function(check_refused name regex)
    get_filename_component(stem ${name} NAME_WE)
    set(dir ${WORK}/${stem})
    ars_regex_escape(file_re ${name})
    string(REPLACE "@FILE@" "${file_re}" regex "${regex}")

    # 1. With the default output (out/<stem>.h5 in the current folder): nothing is created.
    ars_run(r DIR ${dir} ${name})
    ars_expect_rc(r 2 "${name}")
    ars_expect_one_line("${r_err}" "${regex}" "${name}: the message")
    ars_expect_match("${r_out}" "^$" "${name}: stdout")
    ars_files_in(files ${dir})
    if(NOT files STREQUAL name)
        ars_fail("${name}: the failed run left files behind: ${files}")
    endif()

    # 2. Over an existing output file: refused the same way, the file is untouched.
    ars_run(r DIR ${dir} ${name} --output ${good})
    ars_expect_rc(r 2 "${name} --output good.h5")
    ars_expect_one_line("${r_err}" "${regex}" "${name} --output good.h5: the message")
    file(SHA256 ${good} hash)
    if(NOT hash STREQUAL good_hash)
        ars_fail("${name}: the failed run changed ${good}")
    endif()
endfunction()

file(GLOB corpus ${CMAKE_CURRENT_LIST_DIR}/configs/*.ini)
list(LENGTH corpus n_corpus)
if(n_corpus LESS 20)
    ars_fail("expected the bad-config corpus in ${CMAKE_CURRENT_LIST_DIR}/configs, found ${n_corpus}")
endif()
foreach(path ${corpus})
    get_filename_component(name ${path} NAME)
    get_filename_component(stem ${path} NAME_WE)
    file(READ ${path} text)
    if(NOT text MATCHES "^; expect: ([^\n]+)\n")
        ars_fail("${path}: the first line must be '; expect: REGEX'")
    endif()
    set(regex "${CMAKE_MATCH_1}")
    file(MAKE_DIRECTORY ${WORK}/${stem})
    file(COPY ${path} DESTINATION ${WORK}/${stem})
    check_refused(${name} "${regex}")
endforeach()

# Binary garbage, made here to keep the corpus plain text: with a NUL byte, and without.
foreach(stem garbage junk)
    file(MAKE_DIRECTORY ${WORK}/${stem})
endforeach()
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

# A folder is not a config file either.
file(MAKE_DIRECTORY ${WORK}/folder/folder.ini)
ars_run(r DIR ${WORK}/folder folder.ini)
ars_expect_rc(r 2 "a folder as config")
ars_expect_one_line("${r_err}" "^arsampler: error: cannot read config file 'folder\\.ini'$"
                    "a folder as config")

# No temporary files were left next to the good output.
ars_files_in(left ${WORK})
list(FILTER left INCLUDE REGEX "^good")
if(NOT left STREQUAL "good.h5")
    ars_fail("files next to good.h5: ${left}")
endif()
message(STATUS "${n_corpus} bad configs (plus 2 binary files) refused as expected")
