# e2e_init: `init = <an output file>` reproduces its variables and, with the same seed, its
# samples; a file of another architecture is refused (exit 2) naming what differs, before
# anything is written.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

set(common ${QUICKSTART} --set sampler.n_samples=256 --set sampler.chunk_size=64 --quiet)

ars_run(r ${common} --set sampler.seed=11 --output a.h5)
ars_expect_rc(r 0 "the first run")
ars_run(r ${common} --set sampler.seed=11 --set model.init=a.h5 --output b.h5)
ars_expect_rc(r 0 "init = a.h5")
ars_h5same(${WORK}/a.h5 ${WORK}/b.h5 "init = a.h5, same seed" /variables /samples /log_prob)

# With another seed the variables are still those of a.h5; only the samples change.
ars_run(r ${common} --set sampler.seed=12 --set model.init=a.h5 --output c.h5)
ars_expect_rc(r 0 "init = a.h5, seed 12")
ars_h5same(${WORK}/a.h5 ${WORK}/c.h5 "init = a.h5, seed 12: variables" /variables)
ars_h5differ(${WORK}/a.h5 ${WORK}/c.h5 "init = a.h5, seed 12: samples" /samples)

# Another architecture: refused, naming the file and what differs; b.h5 stays as it was.
file(SHA256 ${WORK}/b.h5 b_hash)
foreach(change "model.features=8" "model.kernel_size=3" "model.kernel_dilation=1"
        "system.spin=1" "model.use_bias=false" "model.input=onehot" "model.activation=tanh")
    ars_run(r ${common} --set sampler.seed=11 --set model.init=a.h5 --set ${change} --output b.h5)
    ars_expect_rc(r 2 "init = a.h5 with ${change}")
    ars_expect_one_line("${r_err}" "^arsampler: error: .*a\\.h5.*(/model|/hilbert|/variables)"
                        "init = a.h5 with ${change}: the message")
    file(SHA256 ${WORK}/b.h5 hash)
    if(NOT hash STREQUAL b_hash)
        ars_fail("the refused run (${change}) changed b.h5")
    endif()
endforeach()

# A network without sublattice channels gains them with zero kernels: the same state, so with
# the same seed the same samples and log p, bit for bit; the first layer's kernel is a.h5's
# with zero rows appended. From a file with sublattice channels another sublattice is refused,
# and so is none (the channels' kernels would be dropped).
ars_run(r ${common} --set sampler.seed=11 --set model.init=a.h5 --set model.sublattice=3
        --output g.h5)
ars_expect_rc(r 0 "init = a.h5 with model.sublattice=3")
ars_expect_match("${r_out}" "init: 'a.h5' has no sublattice channels; the first layer's kernel gained 3 zero input channels"
                 "init = a.h5 with model.sublattice=3: what was done")
ars_h5same(${WORK}/a.h5 ${WORK}/g.h5 "init = a.h5 with model.sublattice=3" /samples /log_prob)
execute_process(COMMAND ${PYTHON} -c "
import h5py, numpy as np, sys
a = h5py.File(sys.argv[1], 'r')['variables/params']
g = h5py.File(sys.argv[2], 'r')['variables/params']
ka, kg = a['layers_0/kernel'][()], g['layers_0/kernel'][()]
c = ka.shape[1]
assert kg.shape == (ka.shape[0], c + 3, ka.shape[2]), kg.shape
assert np.array_equal(kg[:, :c, :], ka) and not kg[:, c:, :].any()
for name in a:
    if name != 'layers_0':
        for v in a[name]:
            assert np.array_equal(a[name][v][()], g[name][v][()]), name + '/' + v
print('OK')" ${WORK}/a.h5 ${WORK}/g.h5 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "OK")
    ars_fail("the widened kernel of g.h5:\n${out}${err}")
endif()
foreach(change "model.sublattice=2" "model.sublattice=1")
    ars_run(r ${common} --set model.init=g.h5 --set ${change} --output h.h5)
    ars_expect_rc(r 2 "init = g.h5 with ${change}")
    ars_expect_one_line("${r_err}" "^arsampler: error: .*g\\.h5.*the file's /model sublattice is 3"
                        "init = g.h5 with ${change}: the message")
endforeach()
if(EXISTS ${WORK}/h.h5)
    ars_fail("a refused init across sublattices created h.h5")
endif()

# A missing init file: exit 2 naming it.
ars_run(r ${common} --set model.init=nothere.h5 --output d.h5)
ars_expect_rc(r 2 "init = nothere.h5")
ars_expect_one_line("${r_err}" "^arsampler: error: .*nothere\\.h5" "init = nothere.h5: the message")
if(EXISTS ${WORK}/d.h5)
    ars_fail("init = nothere.h5 created d.h5")
endif()

# A file that is not HDF5: exit 2.
file(WRITE ${WORK}/text.h5 "not HDF5\n")
ars_run(r ${common} --set model.init=text.h5 --output e.h5)
ars_expect_rc(r 2 "init = a text file")
ars_expect_one_line("${r_err}" "^arsampler: error: .*text\\.h5" "init = a text file: the message")

# The chain size is not part of the variables: another size is accepted.
ars_run(r ${common} --set sampler.seed=11 --set model.init=a.h5 --set system.size=24 --output f.h5)
ars_expect_rc(r 0 "init = a.h5 with system.size=24")
ars_expect_match("${r_out}" "init: 'a.h5' is a chain of 16 sites, this run has 24: transferred the modulus network's [0-9]+ parameters"
                 "init = a.h5 with system.size=24: what was transferred")
ars_h5same(${WORK}/a.h5 ${WORK}/f.h5 "init = a.h5 with system.size=24: variables" /variables)

# init_output_scale = c: the loaded last layer times c (every conditional p^c, renormalised; the
# conditionals themselves are test_arnn's), the other layers as loaded, and said at start.
# --resume continues the scaled state without scaling it again: two iterations and a resume to
# four give the bits of four iterations in one run.
ars_run(r ${common} --set model.init=a.h5 --set model.init_output_scale=1.5 --output s.h5)
ars_expect_rc(r 0 "init = a.h5 with init_output_scale = 1.5")
ars_expect_match("${r_out}" "init: the last layer of 'a.h5' scaled by 1.5: every conditional is p\\^1.5, renormalised"
                 "init_output_scale: what was done")
execute_process(COMMAND ${PYTHON} -c "
import h5py, numpy as np, sys
a = h5py.File(sys.argv[1], 'r')['variables/params']
s = h5py.File(sys.argv[2], 'r')['variables/params']
last = 'layers_%d' % (len(a) - 1)
for name in a:
    for v in a[name]:
        want = 1.5 * a[name][v][()] if name == last else a[name][v][()]
        assert np.array_equal(s[name][v][()], want), name + '/' + v
print('OK')" ${WORK}/a.h5 ${WORK}/s.h5 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "OK")
    ars_fail("the scaled variables of s.h5:\n${out}${err}")
endif()
set(train ${QUICKSTART} --set sampler.n_samples=64 --set sampler.chunk_size=64 --quiet
    --set run.mode=train --set hamiltonian.type=tfim --set vmc.final_samples=64
    --set model.init=a.h5 --set model.init_output_scale=1.5)
ars_run(r ${train} --set vmc.iterations=4 --output t4.h5)
ars_expect_rc(r 0 "train 4 iterations from the scaled a.h5")
ars_run(r ${train} --set vmc.iterations=2 --output t2.h5)
ars_expect_rc(r 0 "train 2 iterations from the scaled a.h5")
ars_run(r ${train} --set vmc.iterations=4 --output t2.h5 --resume)
ars_expect_rc(r 0 "--resume to 4 iterations")
ars_h5same(${WORK}/t4.h5 ${WORK}/t2.h5 "init_output_scale, 2 + 2 iterations against 4" /variables
           /vmc/energy)

# scripts/output-scale-scan runs a config at each c and reads the final estimates: its c = 1.5
# state is s.h5's (the same scaled variables), its c = 1 row the unscaled run's own estimate.
execute_process(COMMAND ${PYTHON} ${SRC}/scripts/output-scale-scan ${QUICKSTART} --scales 1 1.5
                        --binary ${ARSAMPLER} --dir ${WORK}/scan --samples 64
                        --set sampler.n_samples=64 --set sampler.chunk_size=64
                        --set run.mode=train --set hamiltonian.type=tfim --set model.init=a.h5
                WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\n\\| 1 \\| -[0-9.]+ .*\n\\| 1.5 \\| -[0-9.]+ .*lowest variance: c = ")
    ars_fail("scripts/output-scale-scan:\n${out}${err}")
endif()
ars_h5same(${WORK}/s.h5 ${WORK}/scan/scale_1.5.h5 "output-scale-scan at c = 1.5" /variables)
ars_run(r ${QUICKSTART} --set sampler.n_samples=64 --set sampler.chunk_size=64
    --set run.mode=train --set hamiltonian.type=tfim --set model.init=a.h5
    --set vmc.iterations=0 --set vmc.final_samples=64 --output u.h5)
ars_expect_rc(r 0 "the unscaled state's estimate")
ars_expect_match("${r_out}" "vmc: 0 iterations: the final estimate of 64 samples only; "
                 "a run of 0 iterations: its header")
ars_h5same(${WORK}/u.h5 ${WORK}/scan/scale_1.h5 "output-scale-scan at c = 1" /vmc /local_energy)
# A stage of no iterations is a training output for scripts/varbench (its final estimate).
execute_process(COMMAND ${PYTHON} ${SRC}/scripts/varbench ${WORK}/u.h5
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "over 0 iterations, 64 samples")
    ars_fail("scripts/varbench on a run of 0 iterations:\n${out}${err}")
endif()
