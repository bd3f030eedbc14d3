# e2e_bench: arsampler-bench, the sampling benchmark (docs/performance.md), on its smallest
# workload: a CSV with one row per workload and thread count, written whole into a folder it
# creates; the peaks line that scripts/bench --train reads; and each bad option refused with one
# message and exit status 2, an earlier CSV left as it was. (Its figures are the machine's: only
# their form and sign are checked, never a speed.)
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

ars_run(r --threads 1 --repeat 1 --only c --csv out/new/bench.csv)
ars_expect_rc(r 0 "arsampler-bench --only c")
ars_expect_match("${r_out}" "\n  c    1000    f32 " "the table's row of workload c")
ars_expect_match("${r_out}" "results written to out/new/bench.csv" "where the CSV went")
file(STRINGS ${WORK}/out/new/bench.csv rows)
list(LENGTH rows n)
if(NOT n EQUAL 2)
    ars_fail("bench.csv has ${n} lines, expected a header and one row:\n${rows}")
endif()
list(GET rows 0 header)
list(GET rows 1 row)
if(NOT header STREQUAL "workload,size,layers,features,kernel_size,n_samples,dtype,threads,chunk,seconds,samples_per_s,site_updates_per_s,useful_gflops,gemm_peak_gflops,percent_of_gemm,roofline_gflops,percent_of_roofline,activation")
    ars_fail("bench.csv's header: ${header}")
endif()
set(num "[0-9.]+(e[+-][0-9]+)?")
if(NOT row MATCHES "^c,1000,3,16,3,4096,float32,1,256,${num},${num},${num},${num},${num},${num},${num},${num},selu$")
    ars_fail("bench.csv's row: ${row}")
endif()

# The peaks alone, one line per thread count.
ars_run(r --peaks --threads 1 --repeat 1)
ars_expect_rc(r 0 "arsampler-bench --peaks")
ars_expect_match("${r_out}" "^peaks threads 1 dgemm_gflops ${num} fma_roofline_gflops ${num}\n$"
                 "the peaks line")

# Bad options: one message naming the option (then the usage line), exit 2, the CSV untouched.
file(SHA256 ${WORK}/out/new/bench.csv before)
# Each case: the arguments, then (after "=") what the message must name.
foreach(case "--only|z='z'" "--only|c,q='q'" "--threads|0='0'" "--threads|1,x='x'"
        "--only|,=no workload named" "--chunk|-3='-3'" "--repeat|many='many'" "--activation|swish='swish'"
        "--bogus=--bogus: unknown option" "--csv=--csv needs a value" "stray=stray: unknown option")
    string(FIND "${case}" "=" eq)
    string(SUBSTRING "${case}" 0 ${eq} bad)
    math(EXPR from "${eq} + 1")
    string(SUBSTRING "${case}" ${from} -1 named)
    string(REPLACE "|" ";" args "${bad}")
    ars_run(r --csv out/new/bench.csv ${args})
    ars_expect_rc(r 2 "arsampler-bench ${args}")
    ars_expect_match("${r_err}" "^arsampler-bench: [^\n]+\nusage: arsampler-bench [^\n]+\n$"
                     "arsampler-bench ${args}: one message and the usage")
    ars_regex_escape(named_re "${named}")
    ars_expect_match("${r_err}" "^arsampler-bench: [^\n]*${named_re}" "arsampler-bench ${args}: names ${named}")
endforeach()
# A CSV path whose folder cannot be made (it is a file): refused before any measuring.
ars_run(r --csv out/new/bench.csv/x.csv --only c)
ars_expect_rc(r 2 "arsampler-bench --csv out/new/bench.csv/x.csv")
ars_expect_match("${r_err}" "^arsampler-bench: --csv 'out/new/bench.csv/x.csv': cannot write into its folder: "
                 "--csv under a file: the message")
ars_expect_match("${r_out}" "^$" "--csv under a file: nothing measured")
file(SHA256 ${WORK}/out/new/bench.csv after)
if(NOT before STREQUAL after)
    ars_fail("a refused command changed bench.csv")
endif()
ars_run(r --help)
ars_expect_rc(r 0 "arsampler-bench --help")
ars_expect_match("${r_out}" "^usage: arsampler-bench " "--help")
