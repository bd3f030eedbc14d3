# e2e_bad_inputs: damaged or unsuitable HDF5 inputs, given as `[model] init = FILE` (mode = sample
# and mode = train) or continued with `--resume` (mode = train, the output file is the input):
# a missing file, a folder, text, random bytes, an empty file, a file cut at several lengths,
# another format or format_version, a damaged /model, variables missing, of the wrong shape or
# type, NaN or inf, a missing or damaged /optimizer or /vmc, a training log of inconsistent
# lengths (tests/e2e/make_bad_inputs.py writes them), and a config whose network differs from
# the file's. Every case: exit status 2, exactly one line on stderr naming the file and the
# object at fault, never HDF5's own error stack, no crash, no output written, and a file given
# to --resume is left byte for byte as it was.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

file(WRITE ${WORK}/train.ini "[run]
mode = train
[system]
size = 6
[model]
layers = 3
features = 4
kernel_size = 3
kernel_dilation = 1, 2, 1
activation = tanh
[sampler]
n_samples = 64
chunk_size = 32
seed = 11
[hamiltonian]
type = tfim
h = 0.8
pbc = true
[vmc]
iterations = 6
optimizer = adam
learning_rate = 0.02
sr = true
diag_shift = 0.05
checkpoint_every = 2
final_samples = 64
")
set(args_sample ${QUICKSTART} --quiet --set sampler.n_samples=64 --set sampler.chunk_size=64)
set(args_train train.ini --quiet)

# The good files the damaged ones are made from.
ars_run(r ${args_sample} --output good_sample.h5)
ars_expect_rc(r 0 "the good sampling output")
ars_run(r ${args_train} --output good_train.h5)
ars_expect_rc(r 0 "the good training output")
foreach(kind sample train)
    set(extra "")
    if(kind STREQUAL "train")
        set(extra --train)
    endif()
    execute_process(COMMAND ${PYTHON} ${CMAKE_CURRENT_LIST_DIR}/e2e/make_bad_inputs.py
                            ${WORK}/good_${kind}.h5 ${WORK}/bad_${kind} ${extra}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        ars_fail("make_bad_inputs.py ${kind} failed:\n${out}${err}")
    endif()
endforeach()

# Under AddressSanitizer the crash_* cases (HDF5 itself reads out of bounds) are skipped: ASan
# reports the read instead of letting arsampler's crash guard turn it into a clean error.
execute_process(COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=help=1 ${ARSAMPLER} --version
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(asan 0)
if("${out}${err}" MATCHES "AddressSanitizer")
    set(asan 1)
    message(STATUS "AddressSanitizer build: the crash_* cases are skipped")
endif()

# ars_cases(out dir): the cases of dir/cases.txt as a list of NAME|REGEX.
function(ars_cases out dir)
    file(STRINGS ${dir}/cases.txt lines)
    if(asan)
        list(FILTER lines EXCLUDE REGEX "^crash_")
    endif()
    set(${out} "${lines}" PARENT_SCOPE)
endfunction()

# ars_expect_refused(PREFIX what regex): exit 2, one error line matching regex, no HDF5 stack.
function(ars_expect_refused prefix what regex)
    ars_expect_rc(${prefix} 2 "${what}")
    ars_expect_one_line("${${prefix}_err}" "^arsampler: error: .*${regex}" "${what}")
    ars_expect_no_match("${${prefix}_err}" "HDF5-DIAG" "${what}: HDF5's error stack on stderr")
    ars_expect_no_match("${${prefix}_out}" "wrote" "${what}: stdout")
endfunction()

function(ars_split_case line name_out regex_out)
    string(FIND "${line}" "|" bar)
    string(SUBSTRING "${line}" 0 ${bar} name)
    math(EXPR from "${bar} + 1")
    string(SUBSTRING "${line}" ${from} -1 regex)
    set(${name_out} "${name}" PARENT_SCOPE)
    set(${regex_out} "${regex}" PARENT_SCOPE)
endfunction()

# [model] init = FILE, mode = sample (cases made from the sampling output) and mode = train (the
# same cases made from the training output): refused before anything is written.
set(count 0)
foreach(kind sample train)
    ars_cases(cases ${WORK}/bad_sample)
    foreach(line IN LISTS cases)
        ars_split_case("${line}" name regex)
        set(what "init = ${name}.h5 (mode = ${kind})")
        ars_run(r ${args_${kind}} --set model.init=bad_${kind}/${name}.h5 --output out_${name}.h5)
        ars_expect_refused(r "${what}" "${regex}")
        if(EXISTS ${WORK}/out_${name}.h5)
            ars_fail("${what}: the refused run wrote out_${name}.h5")
        endif()
        math(EXPR count "${count} + 1")
    endforeach()
endforeach()

# --resume of each damaged training output: refused, and the file is left as it was.
ars_cases(cases ${WORK}/bad_train)
foreach(line IN LISTS cases)
    ars_split_case("${line}" name regex)
    set(what "--resume of ${name}.h5")
    set(file ${WORK}/bad_train/${name}.h5)
    set(before "")
    if(EXISTS ${file} AND NOT IS_DIRECTORY ${file})
        file(SHA256 ${file} before)
    endif()
    ars_files_in(listing_before ${WORK}/bad_train)
    ars_run(r ${args_train} --resume --set vmc.iterations=8 --output bad_train/${name}.h5)
    ars_expect_refused(r "${what}" "${regex}")
    if(NOT before STREQUAL "")
        file(SHA256 ${file} after)
        if(NOT after STREQUAL before)
            ars_fail("${what}: the refused --resume changed the file")
        endif()
    endif()
    ars_files_in(listing_after ${WORK}/bad_train)
    if(NOT listing_after STREQUAL listing_before)
        ars_fail("${what}: files appeared or vanished: ${listing_before} -> ${listing_after}")
    endif()
    math(EXPR count "${count} + 1")
endforeach()

# A config whose network differs from the file's. [model] init: refused naming the /model or
# /hilbert attribute. --resume: refused naming it, or (when the number of parameters differs
# and Adam's moments are read first) naming /optimizer/m; the file is unchanged.
file(SHA256 ${WORK}/good_train.h5 good_hash)
set(changes "model.features=8" "model.features=4,6,2" "model.kernel_size=4"
            "model.kernel_dilation=1" "model.kernel_dilation=1,2,4" "model.use_bias=false"
            "model.input=onehot" "model.activation=selu" "model.feature_group_count=2"
            "model.layers=2|model.kernel_dilation=1,2" "model.layers=4|model.kernel_dilation=1,2,4,1")
foreach(change IN LISTS changes)
    string(REPLACE "|" ";" parts "${change}")
    set(sets "")
    foreach(p IN LISTS parts)
        list(APPEND sets --set ${p})
    endforeach()
    ars_run(r ${args_train} ${sets} --set vmc.iterations=2 --set model.init=good_train.h5
            --output out_arch.h5)
    ars_expect_refused(r "init = good_train.h5 with ${change}" "good_train\\.h5.*(/model|/hilbert)")
    ars_run(r ${args_train} ${sets} --resume --set vmc.iterations=8 --output good_train.h5)
    ars_expect_refused(r "--resume with ${change}"
                       "good_train\\.h5.*(/model|/hilbert|/optimizer/m.*parameters)")
    file(SHA256 ${WORK}/good_train.h5 hash)
    if(NOT hash STREQUAL good_hash)
        ars_fail("--resume with ${change} changed good_train.h5")
    endif()
    math(EXPR count "${count} + 2")
endforeach()
# --resume continues the same run: another chain size, symmetrisation or sublattice is refused
# (a sector: test_io_hdf5, tfim has none) though init allows them; the file stays as it was.
foreach(change "system.size=8" "model.symmetrize=spin_flip" "model.symmetrize=reflection"
        "model.sublattice=2")
    ars_run(r ${args_train} --set ${change} --resume --set vmc.iterations=8 --output good_train.h5)
    ars_expect_refused(r "--resume with ${change}" "good_train\\.h5.*the file's (/hilbert size|/hilbert total_sz|/model symmetrize|/model sublattice)")
    file(SHA256 ${WORK}/good_train.h5 hash)
    if(NOT hash STREQUAL good_hash)
        ars_fail("--resume with ${change} changed good_train.h5")
    endif()
    math(EXPR count "${count} + 1")
endforeach()
# Another spin (mode = sample: the Hamiltonians are spin-1/2 only) and another optimiser.
ars_run(r ${args_sample} --set system.spin=1 --set model.init=good_sample.h5 --output out_spin.h5)
ars_expect_refused(r "init with spin 1" "good_sample\\.h5.*/hilbert local_size")
ars_run(r ${args_train} --set vmc.optimizer=sgd --resume --output good_train.h5)
ars_expect_refused(r "--resume with another optimizer" "good_train\\.h5.*/optimizer.*adam")
file(SHA256 ${WORK}/good_train.h5 hash)
if(NOT hash STREQUAL good_hash)
    ars_fail("--resume with another optimizer changed good_train.h5")
endif()
if(EXISTS ${WORK}/out_arch.h5 OR EXISTS ${WORK}/out_spin.h5)
    ars_fail("a refused [model] init wrote its output")
endif()

# The good file itself still resumes (the cases above did not pass by accident).
ars_run(r ${args_train} --resume --set vmc.iterations=8 --output good_train.h5)
ars_expect_rc(r 0 "--resume of the good training output")
message(STATUS "${count} bad inputs refused as they should be")
