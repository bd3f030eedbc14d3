# e2e_output_faults: an output that cannot be written gives one clear error line, leaves the
# previous output file at that path byte for byte as it was, and leaves no temporary file
# ("<path>.tmp.<pid>") behind:
#  - a parent "folder" that is a regular file (ENOTDIR), and a folder that cannot be created
#    (a name too long): refused before any work, exit status 2, in modes sample, train and exact;
#  - a folder without write permission (run as the user nobody when the tests run as root);
#  - a write that fails half-way: a file-size limit (ulimit -f; main() ignores SIGXFSZ, so the
#    write fails with EFBIG), in modes sample and exact, and a really full disk (ENOSPC, a small
#    tmpfs in a private mount namespace, where one can be made): exit status 1;
#  - a training whose checkpoint write fails mid-run (the growing /vmc log crosses the limit):
#    exit status 1, the last good checkpoint stays, and --resume from it gives bit for bit the
#    result of an uninterrupted run.
# Runs that would replace an existing output pass --force (without it the existing file is
# first kept as FILE.~1~, which e2e_interrupt tests).
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
iterations = 300
optimizer = adam
learning_rate = 0.01
sr = true
diag_shift = 0.05
checkpoint_every = 50
final_samples = 64
")
set(sample ${QUICKSTART} --quiet --set sampler.chunk_size=64)
set(train train.ini --quiet)
set(exact train.ini --quiet --set run.mode=exact)

# ars_expect_no_temporary(dir what): no "*.tmp.*" file is left in dir.
function(ars_expect_no_temporary dir what)
    file(GLOB left ${dir}/*.tmp.*)
    if(left)
        ars_fail("${what}: temporary files left behind: ${left}")
    endif()
endfunction()

# ---- folders that cannot hold the output: refused before any work (exit 2) ----------------
file(WRITE ${WORK}/regular "a file, not a folder\n")
string(REPEAT "n" 300 long)
foreach(mode sample train exact)
    foreach(target "regular/out.h5" "regular/a/b/out.h5" "${long}/out.h5")
        string(SUBSTRING "${target}" 0 20 short)
        set(what "mode = ${mode}, output ${short}...")
        ars_run(r ${${mode}} --output ${target})
        ars_expect_rc(r 2 "${what}")
        ars_expect_one_line(
            "${r_err}" "^arsampler: error: --set output\\.file=[^:]*: \\[output\\] file: .*(regular|nnnn)"
            "${what}")
        ars_expect_no_match("${r_out}" "." "${what}: nothing on stdout")
    endforeach()
endforeach()
if(EXISTS ${WORK}/${long})
    ars_fail("a folder with a too long name was created")
endif()
file(READ ${WORK}/regular content)
if(NOT content STREQUAL "a file, not a folder\n")
    ars_fail("the regular file in the way was changed")
endif()

# A folder without write permission. Root may write anyway, so as root the run is made as the
# user nobody (util-linux setpriv), for whom the permissions hold.
execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
set(as_user "")
if(uid STREQUAL "0")
    set(as_user setpriv --reuid=65534 --regid=65534 --clear-groups)
endif()
file(MAKE_DIRECTORY ${WORK}/locked)
file(CHMOD ${WORK}/locked DIRECTORY_PERMISSIONS OWNER_READ OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
     WORLD_READ WORLD_EXECUTE)
execute_process(COMMAND ${as_user} ${ARSAMPLER} ${sample} --output locked/out.h5
                WORKING_DIRECTORY ${WORK} RESULT_VARIABLE r_rc OUTPUT_VARIABLE r_out
                ERROR_VARIABLE r_err)
file(CHMOD ${WORK}/locked DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
ars_expect_rc(r 2 "a folder without write permission (${as_user})")
ars_expect_one_line("${r_err}" "^arsampler: error: .*locked.*not writable"
                    "a folder without write permission")
ars_files_in(files ${WORK}/locked)
if(files)
    ars_fail("files appeared in the locked folder: ${files}")
endif()

# ---- a full disk: the write fails half-way ----------------------------------------------
# The unit of `ulimit -f` in /bin/sh (512 bytes for dash and POSIX shells, 1024 for bash), found
# by letting the limit cut a file.
execute_process(COMMAND /bin/sh -c "ulimit -f 1; exec head -c 8192 /dev/zero > probe"
                WORKING_DIRECTORY ${WORK} RESULT_VARIABLE ignored ERROR_QUIET)
file(SIZE ${WORK}/probe block)
if(NOT (block EQUAL 512 OR block EQUAL 1024))
    ars_fail("cannot find the unit of ulimit -f (a 1-block file has ${block} bytes)")
endif()
file(REMOVE ${WORK}/probe)

# ars_run_limited(PREFIX BYTES ARGS...): runs arsampler ARGS in WORK with files limited to BYTES
# (rounded down to whole blocks).
function(ars_run_limited prefix bytes)
    math(EXPR blocks "${bytes} / ${block}")
    execute_process(COMMAND /bin/sh -c "ulimit -f ${blocks}; exec \"$0\" \"$@\"" ${ARSAMPLER}
                            ${ARGN}
                    WORKING_DIRECTORY ${WORK}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    set(${prefix}_rc "${rc}" PARENT_SCOPE)
    set(${prefix}_out "${out}" PARENT_SCOPE)
    set(${prefix}_err "${err}" PARENT_SCOPE)
endfunction()

# ars_expect_write_failed(PREFIX file what): exit 1, one line naming the file and the reason;
# `file` is byte for byte `hash`; no temporary left.
function(ars_expect_write_failed prefix name hash what)
    ars_expect_rc(${prefix} 1 "${what}")
    ars_regex_escape(escaped "${name}")
    ars_expect_one_line("${${prefix}_err}"
                        "^arsampler: error: cannot write '${escaped}': File too large; .*unchanged"
                        "${what}")
    file(SHA256 ${WORK}/${name} now)
    if(NOT now STREQUAL hash)
        ars_fail("${what}: ${name} changed")
    endif()
    ars_expect_no_temporary(${WORK} "${what}")
endfunction()

# Sampling: a good small file, then a much larger run over it that cannot be written.
ars_run(r ${sample} --set sampler.n_samples=256 --output samples.h5)
ars_expect_rc(r 0 "the first sampling run")
file(SHA256 ${WORK}/samples.h5 samples_hash)
file(SIZE ${WORK}/samples.h5 samples_size)
ars_run_limited(r 65536 ${sample} --set sampler.n_samples=50000 --set sampler.seed=9 --force
                --output samples.h5)
ars_expect_write_failed(r samples.h5 "${samples_hash}" "sampling past a file-size limit")
# Also when the limit leaves no room at all.
ars_run_limited(r ${block} ${sample} --set sampler.n_samples=256 --force --output samples.h5)
ars_expect_write_failed(r samples.h5 "${samples_hash}" "sampling with a 1-block limit")

# A really full disk (ENOSPC): a 96 KiB tmpfs, mounted in a private mount namespace that ends
# with the command (unshare: as root directly, else in a user namespace). A good small output
# fits; a large run over it fails with "No space left on device", leaves the good file as it was
# and removes its temporary file. Where no namespace can be made (a restricted container), this
# case says so and the file-size limit above stands for a full disk.
file(MAKE_DIRECTORY ${WORK}/disk)
set(full_disk_script "set -e
mount -t tmpfs -o size=96k tmpfs disk
\"$0\" \"$@\" --set sampler.n_samples=64 --output disk/s.h5 > /dev/null
sha256sum disk/s.h5 > before.sum
set +e
\"$0\" \"$@\" --set sampler.n_samples=50000 --set sampler.seed=9 --force --output disk/s.h5 2> enospc.err
echo $? > enospc.rc
ls disk > enospc.ls
sha256sum disk/s.h5 > after.sum")
set(enospc_done 0)
foreach(ns "--mount" "--user --map-root-user --mount")
    if(NOT enospc_done)
        separate_arguments(ns_args UNIX_COMMAND "${ns}")
        execute_process(COMMAND unshare ${ns_args} /bin/sh -c "${full_disk_script}" ${ARSAMPLER}
                                ${sample}
                        WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
        if(rc EQUAL 0)
            set(enospc_done 1)
        endif()
    endif()
endforeach()
if(enospc_done)
    file(READ ${WORK}/enospc.rc r_rc)
    string(STRIP "${r_rc}" r_rc)
    file(READ ${WORK}/enospc.err r_err)
    ars_expect_rc(r 1 "a write to a full disk")
    ars_expect_one_line("${r_err}"
                        "^arsampler: error: cannot write 'disk/s.h5': No space left on device; .*unchanged"
                        "a write to a full disk")
    file(READ ${WORK}/before.sum before)
    file(READ ${WORK}/after.sum after)
    if(NOT before STREQUAL after)
        ars_fail("a write to a full disk changed the previous file")
    endif()
    file(READ ${WORK}/enospc.ls left)
    if(NOT left STREQUAL "s.h5\n")
        ars_fail("a write to a full disk left files behind: ${left}")
    endif()
else()
    message(STATUS "no mount namespace available: the full-disk (ENOSPC) case is not run here; "
                   "the file-size limit (EFBIG) cases above cover a failed write")
endif()

# mode = exact.
ars_run(r ${exact} --output exact.h5)
ars_expect_rc(r 0 "the first exact run")
file(SHA256 ${WORK}/exact.h5 exact_hash)
ars_run_limited(r ${block} ${exact} --force --output exact.h5)
ars_expect_write_failed(r exact.h5 "${exact_hash}" "mode = exact with a 1-block limit")

# ---- a training whose checkpoint write fails mid-run ------------------------------------
# The limit is the size of a 100-iteration output with 64 final samples: checkpoints (no samples)
# up to somewhat more than 100 iterations fit, later ones (the /vmc log grows) do not.
ars_run(r ${train} --set vmc.iterations=100 --output size100.h5)
ars_expect_rc(r 0 "a 100-iteration training")
file(SIZE ${WORK}/size100.h5 limit)
ars_run_limited(r ${limit} ${train} --output ckpt.h5)
ars_expect_rc(r 1 "training past a file-size limit")
ars_expect_match("${r_err}" "arsampler: error: cannot write 'ckpt\\.h5': File too large"
                 "training past a file-size limit")
string(REGEX MATCHALL "arsampler: error" errors "${r_err}")
list(LENGTH errors n_errors)
if(NOT n_errors EQUAL 1)
    ars_fail("training past a file-size limit: ${n_errors} error lines:\n${r_err}")
endif()
ars_expect_no_temporary(${WORK} "training past a file-size limit")
execute_process(COMMAND ${PYTHON} -c "
import h5py, sys
f = h5py.File(sys.argv[1], 'r')
done = int(f['vmc'].attrs['iterations_done'])
assert 100 <= done < 300 and done % 50 == 0, done
assert f['vmc/energy'].shape == (done,) and 'samples' not in f, 'not a checkpoint'
print(done)
" ${WORK}/ckpt.h5 RESULT_VARIABLE rc OUTPUT_VARIABLE done ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("the file left by the failed training is not a mid-run checkpoint:\n${done}${err}")
endif()
string(STRIP "${done}" done)
message(STATUS "a later checkpoint write failed; the last good one, of iteration ${done}, was kept")

# --resume from the kept checkpoint (no limit) = the uninterrupted run, bit for bit.
ars_run(r ${train} --resume --output ckpt.h5)
ars_expect_rc(r 0 "--resume from the last good checkpoint")
ars_run(r ${train} --output full.h5)
ars_expect_rc(r 0 "the uninterrupted training")
ars_h5same(${WORK}/full.h5 ${WORK}/ckpt.h5 "resumed after a failed checkpoint vs uninterrupted"
           /variables /optimizer /samples /log_prob /vmc/iteration /vmc/energy /vmc/grad_norm
           /vmc/learning_rate)
ars_expect_no_temporary(${WORK} "the end")
