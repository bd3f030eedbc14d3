# e2e_cli: the command line itself: --help, --version, --keys, bad options and arguments.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

foreach(opt --help -h)
    ars_run(r ${opt})
    ars_expect_rc(r 0 "arsampler ${opt}")
    ars_expect_match("${r_out}" "^usage: arsampler CONFIG" "${opt} prints the usage on stdout")
    ars_expect_match("${r_err}" "^$" "${opt} stderr")
endforeach()

ars_run(r --version)
ars_expect_rc(r 0 "arsampler --version")
ars_expect_match("${r_out}" "^arsampler [0-9]+\\.[0-9]+\\.[0-9]+\n$" "--version output")

ars_run(r --keys)
ars_expect_rc(r 0 "arsampler --keys")
foreach(s run system model sampler output)
    ars_expect_match("${r_out}" "\\[${s}\\]\n" "--keys lists section [${s}]")
endforeach()

# Errors of the command line: exit status 2 and one message.
ars_run(r --bogus)
ars_expect_rc(r 2 "an unknown option")
ars_expect_one_line("${r_err}" "^arsampler: error: unknown option '--bogus' \\(see --help\\)$"
                    "unknown option message")

ars_run(r ${QUICKSTART} -x)
ars_expect_rc(r 2 "an unknown short option")

ars_run(r missing.ini)
ars_expect_rc(r 2 "a missing config file")
ars_expect_one_line("${r_err}" "^arsampler: error: cannot open config file 'missing\\.ini': "
                    "missing config message")

ars_run(r)
ars_expect_rc(r 2 "no arguments")
ars_expect_match("${r_err}" "^usage: arsampler" "no arguments prints the usage on stderr")

ars_run(r ${QUICKSTART} ${QUICKSTART})
ars_expect_rc(r 2 "two config files")
ars_expect_one_line("${r_err}" "^arsampler: error: more than one config file" "two configs")

ars_run(r ${QUICKSTART} --set)
ars_expect_rc(r 2 "--set without a value")
ars_expect_one_line("${r_err}" "^arsampler: error: --set needs a value" "--set without value")

ars_run(r ${QUICKSTART} --set sampler.seed)
ars_expect_rc(r 2 "--set without =")
ars_expect_one_line("${r_err}" "^--set sampler\\.seed: expected section\\.key=value$" "--set syntax")

ars_run(r ${QUICKSTART} --set sampler.sed=3)
ars_expect_rc(r 2 "--set of an unknown key")
ars_expect_one_line("${r_err}" "^--set sampler\\.sed=3: \\[sampler\\] sed: unknown key \\(keys of "
                    "\\[sampler\\]: n_samples, chunk_size, seed\\)$" "--set unknown key")

ars_run(r ${QUICKSTART} --set=system.size=0)
ars_expect_rc(r 2 "--set= with a bad value")
ars_expect_one_line("${r_err}" "^--set system\\.size=0: \\[system\\] size: must be an integer "
                    "from 1 to 1000000 \\(got '0'\\)$" "--set= bad value")

ars_run(r ${QUICKSTART} --threads -2)
ars_expect_rc(r 2 "--threads -2")
ars_expect_one_line("${r_err}" "run\\.threads=-2: \\[run\\] threads: must be an integer from 0 "
                    "to 4096" "--threads bad value")

ars_run(r ${QUICKSTART} --threads 1 --threads 2)
ars_expect_rc(r 2 "--threads twice")
ars_expect_one_line("${r_err}" "^arsampler: error: --threads given more than once$" "--threads twice")

ars_run(r ${QUICKSTART} --threads 1 --output a.h5 --output b.h5)
ars_expect_rc(r 2 "--output twice")
ars_expect_one_line("${r_err}" "^arsampler: error: --output given more than once$" "--output twice")

# --threads and --output are the same as their --set forms; --set and --set= are the same.
ars_run(a ${QUICKSTART} --threads 3 --output x/y.h5 --print-config)
ars_run(b ${QUICKSTART} --set run.threads=3 --set=output.file=x/y.h5 --print-config)
ars_expect_rc(a 0 "--threads/--output --print-config")
ars_expect_rc(b 0 "--set --print-config")
if(NOT a_out STREQUAL b_out)
    ars_fail("--threads/--output differ from --set:\n${a_out}\nvs\n${b_out}")
endif()
ars_expect_match("${a_out}" "\nthreads = 3\n" "--threads in the effective config")
ars_expect_match("${a_out}" "\nfile = x/y\\.h5\n" "--output in the effective config")

# None of the above created an output file.
ars_files_in(left ${WORK})
if(left)
    ars_fail("the runs above left files behind: ${left}")
endif()
