# Helpers shared by the e2e_*.cmake scripts (cmake -P). The including script is run with
#   -DARSAMPLER=<binary> -DSRC=<source tree> -DWORK=<scratch folder>
# and starts from an empty WORK.

foreach(var ARSAMPLER SRC WORK)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "e2e: -D${var}=... is required")
    endif()
endforeach()

set(PYTHON /usr/bin/python3)
set(H5SAME ${CMAKE_CURRENT_LIST_DIR}/h5same.py)
set(QUICKSTART ${SRC}/configs/quickstart.ini)

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

# ars_run(PREFIX [DIR dir] ARGS...): runs arsampler with ARGS in `dir` (default WORK) and sets
# PREFIX_rc, PREFIX_out (stdout) and PREFIX_err (stderr) in the caller.
function(ars_run prefix)
    set(dir ${WORK})
    set(args ${ARGN})
    list(LENGTH args n)
    if(n GREATER 1)
        list(GET args 0 first)
        if(first STREQUAL "DIR")
            list(GET args 1 dir)
            list(REMOVE_AT args 0 1)
        endif()
    endif()
    execute_process(COMMAND ${ARSAMPLER} ${args}
                    WORKING_DIRECTORY ${dir}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    set(${prefix}_rc "${rc}" PARENT_SCOPE)
    set(${prefix}_out "${out}" PARENT_SCOPE)
    set(${prefix}_err "${err}" PARENT_SCOPE)
endfunction()

# ars_fail(what...): stops the test with a message.
# (Arguments are joined as they are, semicolons included.)
function(ars_fail)
    set(msg "")
    math(EXPR last "${ARGC} - 1")
    foreach(i RANGE ${last})
        string(APPEND msg "${ARGV${i}}")
    endforeach()
    message(FATAL_ERROR "e2e: ${msg}")
endfunction()

# ars_expect_rc(PREFIX expected what): the run PREFIX must have exited with `expected`.
function(ars_expect_rc prefix expected what)
    if(NOT "${${prefix}_rc}" STREQUAL "${expected}")
        ars_fail("${what}: expected exit status ${expected}, got ${${prefix}_rc}\n"
                 "--- stdout:\n${${prefix}_out}--- stderr:\n${${prefix}_err}")
    endif()
endfunction()

# ars_expect_match(text regex what): `text` must match the CMake regex.
function(ars_expect_match text regex what)
    if(NOT "${text}" MATCHES "${regex}")
        ars_fail("${what}: \"${text}\" does not match \"${regex}\"")
    endif()
endfunction()

# ars_expect_no_match(text regex what)
function(ars_expect_no_match text regex what)
    if("${text}" MATCHES "${regex}")
        ars_fail("${what}: \"${text}\" unexpectedly matches \"${regex}\"")
    endif()
endfunction()

# ars_expect_count(text regex count what): `regex` matches `text` exactly `count` times.
function(ars_expect_count text regex count what)
    string(REGEX MATCHALL "${regex}" hits "${text}")
    list(LENGTH hits n)
    if(NOT n EQUAL count)
        ars_fail("${what}: expected \"${regex}\" ${count} times, got ${n}:\n${text}")
    endif()
endfunction()

# ars_expect_one_line(text regex what): exactly one line, matching `regex` (anchor it yourself).
function(ars_expect_one_line text regex what)
    string(REGEX MATCHALL "\n" newlines "${text}")
    list(LENGTH newlines n)
    if(NOT n EQUAL 1 OR NOT "${text}" MATCHES "\n$")
        ars_fail("${what}: expected exactly one line, got ${n} newlines in \"${text}\"")
    endif()
    string(REGEX REPLACE "\n$" "" line "${text}")
    ars_expect_match("${line}" "${regex}" "${what}")
endfunction()

# ars_regex_escape(out text): `text` with CMake regex metacharacters escaped.
function(ars_regex_escape out text)
    string(REGEX REPLACE "([][.*+?^$()|\\\\])" "\\\\\\1" escaped "${text}")
    set(${out} "${escaped}" PARENT_SCOPE)
endfunction()

# ars_h5same(a b what OBJECT...): the datasets (or every dataset under the groups) OBJECT... of
# HDF5 files a and b must be identical, byte for byte.
function(ars_h5same a b what)
    execute_process(COMMAND ${PYTHON} ${H5SAME} ${a} ${b} ${ARGN}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        ars_fail("${what}: ${a} and ${b} differ (${rc}):\n${out}${err}")
    endif()
endfunction()

# ars_h5differ(a b what OBJECT...): the opposite (guards against vacuous comparisons).
function(ars_h5differ a b what)
    execute_process(COMMAND ${PYTHON} ${H5SAME} ${a} ${b} ${ARGN}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 1)
        ars_fail("${what}: expected ${a} and ${b} to differ (h5same exit ${rc}):\n${out}${err}")
    endif()
endfunction()

# ars_files_in(out dir): the sorted list of files under dir, relative to it.
function(ars_files_in out dir)
    file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE ${dir} ${dir}/*)
    list(SORT files)
    set(${out} "${files}" PARENT_SCOPE)
endfunction()

# ars_expect_obs_ref(file what): scripts/obs_ref.py, numpy's recomputation of the file's
# /observables from its samples and network, agrees with every one.
function(ars_expect_obs_ref file what)
    execute_process(COMMAND ${PYTHON} ${SRC}/scripts/obs_ref.py ${file}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT out MATCHES "every observable matches")
        ars_fail("obs_ref.py on ${what} (${rc}):\n${out}${err}")
    endif()
endfunction()
