# e2e_report: [observables] through the binary, and scripts/arsampler-report on its outputs.
#  - mode = sample with `names = all`, renyi2 cuts and a TFIM Hamiltonian, a short mode = train
#    with `names = all`, a plain sample file without observables, a mode = exact file, and a
#    symmetrised state in a sector (whose samples must fit the report's exact enumeration);
#  - the report on each exits 0; tests/e2e/check_report.py compares every number of its summary
#    with the file (h5py), checks the /observables layout of the contract, recomputes the
#    diagonal observables from /samples, and checks that exactly the expected PNGs were written
#    and are valid, non-blank images;
#  - a sample-only file says "no training log (sample-only file)"; without -o the figures go to
#    FILE_report/ next to the file;
#  - --help works; a missing file, a non-HDF5 file, another `format` and another
#    `format_version` exit 2 with one line on stderr.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

set(REPORT ${SRC}/scripts/arsampler-report)
set(CHECK ${CMAKE_CURRENT_LIST_DIR}/e2e/check_report.py)
# matplotlib's cache in WORK: nothing written to HOME, no warning about an unwritable one.
set(PYENV ${CMAKE_COMMAND} -E env MPLCONFIGDIR=${WORK}/mplconfig)
set(ALL_FIGURES training.png,correlations.png,structure_factor.png,profiles.png,renyi2.png)
string(APPEND ALL_FIGURES ,probabilities.png)

# report(PREFIX FILE ARGS...): runs the report on FILE; PREFIX_rc, PREFIX_out, PREFIX_err.
function(report prefix file)
    execute_process(COMMAND ${PYENV} ${PYTHON} ${REPORT} ${file} ${ARGN}
                    WORKING_DIRECTORY ${WORK}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    set(${prefix}_rc "${rc}" PARENT_SCOPE)
    set(${prefix}_out "${out}" PARENT_SCOPE)
    set(${prefix}_err "${err}" PARENT_SCOPE)
endfunction()

# check(PREFIX FILE FIGDIR CHECK_ARGS...): the report PREFIX of FILE must have exited 0 and its
# summary and the figures in FIGDIR must pass check_report.py.
function(check prefix file figdir)
    ars_expect_rc(${prefix} 0 "arsampler-report ${file}")
    file(WRITE ${WORK}/${prefix}_summary.txt "${${prefix}_out}")
    execute_process(COMMAND ${PYENV} ${PYTHON} ${CHECK} ${file} ${WORK}/${prefix}_summary.txt
                            ${figdir} ${ARGN}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        ars_fail("the report of ${file} does not match the file:\n${out}${err}\n"
                 "--- the summary:\n${${prefix}_out}")
    endif()
endfunction()

set(common "[system]
size = 8
[model]
layers = 3
features = 4
kernel_size = 3
kernel_dilation = 1, 2, 4
activation = tanh
[hamiltonian]
type = tfim
h = 0.8
")

# (a) mode = sample, every observable.
file(WRITE ${WORK}/sample.ini "[run]
mode = sample
${common}[sampler]
n_samples = 4000
chunk_size = 500
seed = 7
[observables]
names = all
renyi2_cuts = 2, 4
")
ars_run(a sample.ini --quiet --output ${WORK}/sample.h5)
ars_expect_rc(a 0 "mode = sample with [observables] names = all")
report(ra ${WORK}/sample.h5 -o ${WORK}/sample_figs)
check(ra ${WORK}/sample.h5 ${WORK}/sample_figs --observables all --cuts 2,4 --cross-check
      --figures correlations.png,structure_factor.png,profiles.png,renyi2.png,probabilities.png)
ars_expect_match("${ra_out}" "\ntraining: no training log \\(sample-only file\\)\n"
                 "the sample-only line")
ars_expect_match("${ra_out}" "\nobservables: 4000 samples \\(source: samples\\)\n"
                 "the observables line of a sample file")
ars_expect_match("${ra_out}" "\nfigure training.png: skipped \\(no training log\\)\n"
                 "the skipped training figure")

# (b) a short training, every observable measured on the final samples.
file(WRITE ${WORK}/train.ini "[run]
mode = train
${common}[sampler]
n_samples = 128
chunk_size = 32
seed = 11
[vmc]
iterations = 30
learning_rate = 0.02
final_samples = 2000
[observables]
names = all
renyi2_cuts = 4
")
ars_run(b train.ini --quiet --output ${WORK}/train.h5)
ars_expect_rc(b 0 "mode = train with [observables] names = all")
report(rb ${WORK}/train.h5 -o ${WORK}/train_figs)
check(rb ${WORK}/train.h5 ${WORK}/train_figs --observables all --cuts 4 --cross-check
      --figures ${ALL_FIGURES})
ars_expect_match("${rb_out}" "\nobservables: 2000 samples \\(source: final_samples\\)\n"
                 "the observables line of a training file")
ars_expect_match("${rb_out}" "\nenergy: [^\n]* \\(from /observables/energy, 2000 samples"
                 "the energy of a training file comes from /observables/energy")
ars_expect_match("${rb_out}" "\nrelative error: " "the relative error (TFIM: exact known)")

# (c) a plain sample file: no observables, figures in the default folder next to the file.
file(WRITE ${WORK}/plain.ini "[run]
mode = sample
${common}[sampler]
n_samples = 1000
chunk_size = 250
seed = 3
")
ars_run(c plain.ini --quiet --output ${WORK}/plain.h5)
ars_expect_rc(c 0 "a plain sample file")
report(rc ${WORK}/plain.h5)
check(rc ${WORK}/plain.h5 ${WORK}/plain_report --observables none --figures probabilities.png)
ars_expect_match("${rc_out}" "\ntraining: no training log \\(sample-only file\\)\n"
                 "the sample-only line")
ars_expect_match("${rc_out}" "\nobservables: none in this file\n" "no observables")

# (d) mode = exact: only the reference energy, no figures (and no figure folder).
ars_run(d plain.ini --quiet --set run.mode=exact --output ${WORK}/exact.h5)
ars_expect_rc(d 0 "mode = exact")
report(rd ${WORK}/exact.h5)
check(rd ${WORK}/exact.h5 ${WORK}/exact_report --observables none --figures=)
ars_expect_match("${rd_out}" "\nreference energy: -" "the exact energy")
if(EXISTS ${WORK}/exact_report)
    ars_fail("the report of an exact-run file made a figure folder")
endif()

# (e) a state in the sector total_sz = 0, symmetrised over both symmetries (Heisenberg with the
#     Marshall sign): the report's enumeration is of that state, so the samples fit it and the
#     exact S2 is the state's.
ars_run(e sample.ini --quiet --output ${WORK}/sym.h5 --set system.total_sz=0
        --set model.symmetrize=both --set hamiltonian.type=heisenberg
        --set hamiltonian.marshall_sign=true)
ars_expect_rc(e 0 "mode = sample in a sector, symmetrised")
report(re ${WORK}/sym.h5 -o ${WORK}/sym_figs)
check(re ${WORK}/sym.h5 ${WORK}/sym_figs --observables all --cuts 2,4 --cross-check
      --figures correlations.png,structure_factor.png,profiles.png,renyi2.png,probabilities.png)
ars_expect_match("${re_out}" "\nsystem: 8 sites, [^\n]*, sector total_sz = 0\nsymmetrised: both "
                 "the sector and the symmetry in the summary")

# --help.
foreach(script arsampler-report arsampler_io.py)
    execute_process(COMMAND ${PYENV} ${PYTHON} ${SRC}/scripts/${script} --help
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT out MATCHES "^usage: ")
        ars_fail("${script} --help: exit ${rc}\n${out}${err}")
    endif()
endforeach()

# Files the report must refuse: exit 2, one line on stderr, nothing on stdout.
file(WRITE ${WORK}/not_hdf5.h5 "this is not an HDF5 file\n")
execute_process(COMMAND ${PYTHON} -c "
import h5py, shutil, sys
bad = (('version2.h5', 'format_version', 2), ('other_format.h5', 'format', 'netcdf'))
for name, attr, value in bad:
    shutil.copy(sys.argv[1], name)
    with h5py.File(name, 'r+') as f:
        f.attrs[attr] = value
" ${WORK}/plain.h5 WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("could not write the bad files: ${err}")
endif()
foreach(case "missing.h5;no such file"
             "not_hdf5.h5;not an HDF5 file"
             "version2.h5;format_version 2 is not supported \\(this reader reads 1\\)"
             "other_format.h5;not an arsampler output \\(root attribute format = 'netcdf'")
    list(GET case 0 name)
    list(GET case 1 regex)
    report(bad ${WORK}/${name})
    ars_expect_rc(bad 2 "arsampler-report on ${name}")
    ars_expect_one_line("${bad_err}" "^arsampler-report: [^\n]*${name}: ${regex}"
                        "the message for ${name}")
    if(NOT bad_out STREQUAL "")
        ars_fail("arsampler-report on ${name} printed on stdout: ${bad_out}")
    endif()
endforeach()
