# e2e_train: [run] mode = train and mode = exact through the binary.
#  - a short TFIM training writes a file that check_output.py accepts, with the /vmc log, the
#    optimiser state, the Hamiltonian and the free-fermion reference energy;
#  - 10 iterations, then --resume to 20 (with another thread count), equals 20 in one go, bit for
#    bit (variables, optimiser, log without timings, final samples);
#  - --resume of a finished run with more iterations extends it;
#  - the same with optimizer = spring, whose state is its last direction; momentum 0 is sgd;
#  - the same with sr_dtype = float32 (the header names it; its parameters are not float64's);
#  - the same with eloc_dtype = float32 (the header names it; the trajectory is not float64's),
#    and without iterations its final estimate is float64's, bit for bit;
#  - max_step scales a step down to its bound (the parameters' change, /vmc/step_length);
#  - mode = exact prints the exact energy and writes /reference/energy;
#  - --resume without mode = train, or on a file that is not a training output, exits 2;
#  - a final state far from the run's typical one (a last step 40x too long) is warned of;
#  - a stalled run warns once, saying what helps, and still finishes: a network that cannot
#    reach the chain plateaus, one without the Marshall sign collapses; a run that converges
#    does not warn.
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
n_samples = 128
chunk_size = 32
seed = 11
[hamiltonian]
type = tfim
h = 0.8
pbc = true
[vmc]
iterations = 20
optimizer = adam
learning_rate = 0.02
learning_rate_schedule = exponential
learning_rate_decay = 0.99
sr = true
diag_shift = 0.05
checkpoint_every = 5
final_samples = 512
")

ars_run(a train.ini --quiet --output ${WORK}/full.h5)
ars_expect_rc(a 0 "a short training")
execute_process(COMMAND /usr/bin/python3 ${SRC}/scripts/check_output.py ${WORK}/full.h5
                        --n-samples 512
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("check_output.py rejected the training output:\n${out}${err}")
endif()
execute_process(COMMAND /usr/bin/python3 -c "
import h5py, numpy as np, sys
f = h5py.File(sys.argv[1], 'r')
assert f['vmc'].attrs['iterations_done'] == 20, f['vmc'].attrs['iterations_done']
assert f['vmc/energy'].shape == (20,)
assert list(f['vmc/iteration'][()]) == list(range(20))
assert f['optimizer'].attrs['step'] == 20 and f['optimizer/m'].shape == f['optimizer/v'].shape
assert f['hamiltonian'].attrs['type'] == 'tfim' and f['hamiltonian'].attrs['h'] == 0.8
assert f.attrs['blas'].startswith('OpenBLAS '), f.attrs['blas']  # the kernels behind the SR bits
ref = f['reference/energy'][()]
assert abs(f['vmc/relative_error'][-1] - abs((f['vmc/energy'][-1] - ref) / ref)) < 1e-15
fe, err = f['vmc'].attrs['final_energy'], f['vmc'].attrs['final_energy_error']
assert fe > ref - 5 * err, (fe, ref, err)   # variational, within the error bar
# The phases of an iteration (issue 16): seconds per iteration, their sum within the logged
# iteration times; the local energies evaluate at least every sample's own L sites.
v = f['vmc'].attrs
phases = [v['seconds_' + p] for p in
          ('sample', 'local_energy', 'gradient', 'sr_build', 'sr_solve', 'update')]
assert all(s >= 0 for s in phases) and sum(phases) > 0, phases
assert sum(phases) <= f['vmc/seconds'][()].mean() * (1 + 1e-9), (phases, f['vmc/seconds'][()])
assert v['local_energy_sites_computed'] >= v['local_energy_sites_useful'] >= 128 * 6, dict(v)
assert np.isfinite(v['seconds_checkpoint']) and v['seconds_checkpoint'] > 0
print('ok', ref, fe, err)
" ${WORK}/full.h5 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("the training output is not as documented:\n${out}${err}")
endif()

# Everything but the timings (/vmc/seconds).
set(objects /variables /optimizer /samples /log_prob /reference /vmc/iteration /vmc/energy
            /vmc/energy_error /vmc/energy_variance /vmc/vscore /vmc/relative_error
            /vmc/grad_norm /vmc/distinct_fraction /vmc/learning_rate /vmc/diag_shift)

# Interrupted after 10 iterations and resumed (with one thread) = uninterrupted.
ars_run(b train.ini --quiet --output ${WORK}/split.h5 --set vmc.iterations=10)
ars_expect_rc(b 0 "10 iterations")
ars_run(c train.ini --quiet --output ${WORK}/split.h5 --resume --threads 1)
ars_expect_rc(c 0 "--resume to 20 iterations")
ars_h5same(${WORK}/full.h5 ${WORK}/split.h5 "resumed vs uninterrupted" ${objects})

# A finished run extended by --resume --set vmc.iterations=30 equals 30 in one go.
ars_run(d train.ini --quiet --output ${WORK}/full30.h5 --set vmc.iterations=30)
ars_run(e train.ini --quiet --output ${WORK}/split.h5 --resume --set vmc.iterations=30)
ars_expect_rc(e 0 "extending a finished run")
ars_h5same(${WORK}/full30.h5 ${WORK}/split.h5 "extended vs 30 in one go" ${objects})
ars_h5differ(${WORK}/full.h5 ${WORK}/full30.h5 "20 vs 30 iterations" /variables)

# expect_resume_bitwise(NAME WHAT OPTION...): 20 iterations with the options into
# WORK/NAME.h5, and 10 then --resume on one thread into WORK/NAME_split.h5: both succeed and
# agree bit for bit. NAME_out receives the first run's output (its header).
function(expect_resume_bitwise name what)
    ars_run(r1 train.ini --output ${WORK}/${name}.h5 ${ARGN})
    ars_expect_rc(r1 0 "${what}, 20 iterations")
    ars_run(r2 train.ini --quiet --output ${WORK}/${name}_split.h5 ${ARGN} --set vmc.iterations=10)
    ars_run(r3 train.ini --quiet --output ${WORK}/${name}_split.h5 ${ARGN} --resume --threads 1)
    ars_expect_rc(r3 0 "${what}, --resume to 20 iterations")
    ars_h5same(${WORK}/${name}.h5 ${WORK}/${name}_split.h5 "${what}: resumed vs uninterrupted"
               ${objects})
    set(${name}_out "${r1_out}" PARENT_SCOPE)
endfunction()

# SPRING (optimizer = spring): its state is the last direction, /optimizer/direction; resumed
# from a checkpoint after 10 iterations it continues bit for bit; momentum 0 is SR with sgd.
set(spring --set vmc.optimizer=spring --set vmc.momentum=0.9)
expect_resume_bitwise(spring "spring" ${spring})
ars_run(s4 train.ini --quiet --output ${WORK}/spring0.h5 --set vmc.optimizer=spring
        --set vmc.momentum=0 --set vmc.iterations=10)
ars_run(s5 train.ini --quiet --output ${WORK}/sgd.h5 --set vmc.optimizer=sgd --set vmc.iterations=10)
ars_h5same(${WORK}/spring0.h5 ${WORK}/sgd.h5 "spring with momentum 0 vs sgd" /variables /samples
           /vmc/energy)
ars_h5differ(${WORK}/spring0.h5 ${WORK}/spring_split.h5 "momentum 0 vs 0.9" /variables)
# sr_dtype = float32: the header says so; resumed after 10 iterations on another thread count
# it continues bit for bit; the parameters are not float64's (the products are float32).
expect_resume_bitwise(f32 "sr_dtype = float32" --set vmc.sr_dtype=float32)
ars_expect_match("${f32_out}" "SR in parameter space \\(float32 products\\)" "the float32 header")
ars_h5differ(${WORK}/f32.h5 ${WORK}/full.h5 "float32 vs float64 SR products" /variables)

# eloc_dtype = float32: the same checks; the final estimate always runs in float64, so a run
# without iterations gives float64's bits.
set(e32 --set vmc.eloc_dtype=float32)
expect_resume_bitwise(e32 "eloc_dtype = float32" ${e32})
ars_expect_match("${e32_out}" "float32 local energies" "the float32 local energies header")
ars_h5differ(${WORK}/e32.h5 ${WORK}/full.h5 "float32 vs float64 local energies" /vmc/energy)
ars_run(e4 train.ini --quiet --output ${WORK}/e32_final.h5 ${e32} --set vmc.iterations=0)
ars_run(e5 train.ini --quiet --output ${WORK}/e64_final.h5 --set vmc.iterations=0)
ars_expect_rc(e4 0 "eloc_dtype = float32, no iterations")
ars_h5same(${WORK}/e32_final.h5 ${WORK}/e64_final.h5 "final estimate: float32 vs float64 setting"
           /variables /samples /log_prob)
execute_process(COMMAND /usr/bin/python3 -c "
import h5py, sys
a, b = (h5py.File(p, 'r')['vmc'].attrs for p in sys.argv[1:3])
keys = ['final_energy', 'final_energy_error', 'final_energy_variance']
bad = [k for k in keys if a[k] != b[k]]
print(' '.join('%s %r vs %r' % (k, a[k], b[k]) for k in bad), end='')
sys.exit(1 if bad else 0)
" ${WORK}/e32_final.h5 ${WORK}/e64_final.h5 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("final estimate with eloc_dtype = float32 is not float64's: ${out}${err}")
endif()

# max_step: the first step of sgd with SR, bounded at half its length, is the same step scaled
# by 1/2 (the parameters' change, against the initial ones of a 0-iteration run) and is logged
# at exactly the bound; every later step stays within it; the header names the bound.
set(sgd1 --set vmc.optimizer=sgd --set vmc.iterations=1)
ars_run(m0 train.ini --quiet --output ${WORK}/ms_init.h5 --set vmc.iterations=0)
ars_run(m1 train.ini --quiet --output ${WORK}/ms_free.h5 ${sgd1})
ars_expect_rc(m1 0 "sgd, 1 iteration")
execute_process(COMMAND /usr/bin/python3 -c "
import h5py, sys
print(repr(0.5 * float(h5py.File(sys.argv[1], 'r')['vmc/step_length'][0])), end='')
" ${WORK}/ms_free.h5 RESULT_VARIABLE rc OUTPUT_VARIABLE half ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("no /vmc/step_length in the sgd output:\n${err}")
endif()
ars_run(m2 train.ini --output ${WORK}/ms_half.h5 ${sgd1} --set vmc.max_step=${half})
ars_expect_rc(m2 0 "sgd with max_step, 1 iteration")
ars_expect_match("${m2_out}" "steps at most [0-9.e-]+ long" "the max_step header")
ars_run(m3 train.ini --quiet --output ${WORK}/ms_long.h5 --set vmc.optimizer=sgd
        --set vmc.max_step=${half})
ars_expect_rc(m3 0 "sgd with max_step, 20 iterations")
execute_process(COMMAND /usr/bin/python3 -c "
import h5py, sys, numpy as np
def flat(path):
    f = h5py.File(path, 'r')
    out = []
    f['variables'].visititems(lambda k, d: out.append(d[()].ravel()) if isinstance(d, h5py.Dataset) else None)
    return np.concatenate(out)
z, a, b = (flat(p) for p in sys.argv[1:4])
half = float(sys.argv[5])
da, db = a - z, b - z
assert np.abs(da).max() > 0
assert np.allclose(db, 0.5 * da, rtol=1e-9, atol=1e-15 * np.abs(da).max()), np.abs(db - 0.5 * da).max()
lb = h5py.File(sys.argv[3], 'r')['vmc/step_length'][()]
assert abs(lb[0] - half) <= 1e-12 * half, (lb[0], half)
ll = h5py.File(sys.argv[4], 'r')['vmc/step_length'][()]
assert len(ll) == 20 and np.all(ll <= half * (1 + 1e-12)) and np.all(ll > 0), ll
" ${WORK}/ms_init.h5 ${WORK}/ms_free.h5 ${WORK}/ms_half.h5 ${WORK}/ms_long.h5 ${half}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("max_step does not bound the steps as documented:\n${out}${err}")
endif()

execute_process(COMMAND /usr/bin/python3 -c "
import h5py, sys
f = h5py.File(sys.argv[1], 'r')
o = f['optimizer']
assert o.attrs['type'] == 'spring' and o.attrs['momentum'] == 0.9 and o.attrs['step'] == 20
n = []
f['variables'].visititems(lambda k, d: n.append(d.size) if isinstance(d, h5py.Dataset) else None)
n = sum(n)
assert o['direction'].shape == (n,), (o['direction'].shape, n)
" ${WORK}/spring.h5 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("the spring output is not as documented:\n${out}${err}")
endif()

# mode = exact.
ars_run(x train.ini --set run.mode=exact --output ${WORK}/exact.h5 --quiet)
ars_expect_rc(x 0 "mode = exact")
ars_expect_match("${x_out}" "^-[0-9]+\\.[0-9]+\n$" "the exact energy on stdout")

# Misuse of --resume.
ars_run(r1 train.ini --set run.mode=sample --resume --output ${WORK}/x.h5)
ars_expect_rc(r1 2 "--resume with mode = sample")
ars_run(r2 train.ini --resume --output ${WORK}/exact.h5)
ars_expect_rc(r2 2 "--resume of a file that is not a training output")
ars_expect_match("${r2_err}" "nothing to resume" "the --resume message")

# Without --quiet the run ends with where an iteration's time went.
ars_run(r train.ini --set vmc.iterations=6 --output phases.h5)
ars_expect_rc(r 0 "a six-iteration run (one checkpoint)")
ars_expect_match("${r_out}" "time per iteration: [0-9.e-]+ s = sample [^\n]*, update [^\n]*; checkpoint"
                 "the phases line")

# Stalls (vmc/stall.h): warned once each, the run unchanged (it finishes, exit 0).
file(WRITE ${WORK}/stall.ini "[run]
mode = train
threads = 1
[system]
size = 8
total_sz = 0
[model]
layers = 2
features = 8
kernel_size = 8
[sampler]
n_samples = 512
[hamiltonian]
type = heisenberg
marshall_sign = true
[vmc]
iterations = 120
final_samples = 512
")
ars_run(r stall.ini --quiet --set model.layers=1 --set model.kernel_size=2 --output plateau.h5)
ars_expect_rc(r 0 "a network that sees one site back")
ars_expect_count("${r_err}" "the training has stalled" 1 "a plateau far above the reference")
ars_expect_match("${r_err}" "decaying diag_shift" "the plateau warning's advice")
ars_run(r stall.ini --quiet --set hamiltonian.marshall_sign=false --output collapse.h5)
ars_expect_rc(r 0 "heisenberg without the Marshall sign")
ars_expect_count("${r_err}" "samples are distinct" 1 "a collapsing run")
ars_run(r train.ini --quiet --set vmc.iterations=150 --output converges.h5)
ars_expect_rc(r 0 "a converging run")
ars_expect_no_match("${r_err}" "stalled|distinct|final state" "a converging run warns of no stall")
# A final state on a spike: one last step 40 times too long (sgd with learning rate 2 after 120
# steps of 0.05) leaves the state far from the run's typical one (measured: 41 times the mean
# variance of the last 50 iterations); the final estimate says so.
set(spike --set vmc.optimizer=sgd --set vmc.learning_rate_schedule=constant
    --set vmc.diag_shift=0.01 --set vmc.final_samples=4096)
ars_run(r train.ini --quiet ${spike} --set vmc.iterations=120 --set vmc.learning_rate=0.05
        --output spike.h5)
ars_expect_no_match("${r_err}" "final state" "120 steady steps")
ars_run(r train.ini --quiet ${spike} --set vmc.iterations=121 --set vmc.learning_rate=2 --resume
        --output spike.h5)
ars_expect_rc(r 0 "one long last step")
ars_expect_count("${r_err}" "the final state's variance \\([0-9.e+-]+\\) is [0-9]+ times the mean"
                 1 "a final state on a spike")

# A newcomer's first run: the defaults (issue 14, docs/results.md "Choosing the defaults") with
# only the model and the network of configs/quickstart.ini (and 1024 samples, for time). An
# 8-site Heisenberg ring reaches a relative error below 1e-3 within 60 iterations (measured:
# 6.4e-5; the old defaults, adam with 0.01, end at 1.2e-2).
file(WRITE ${WORK}/first.ini "[run]
mode = train
[system]
size = 8
total_sz = 0
[model]
kernel_size = 4
kernel_dilation = 1, 2, 4
[hamiltonian]
type = heisenberg
marshall_sign = true
[sampler]
n_samples = 1024
[vmc]
iterations = 60
final_samples = 2048
")
if(SANITIZED) # the same code, 5 iterations (CI time); the accuracy is the normal build's
    ars_run(r first.ini --quiet --output first.h5 --set vmc.iterations=5)
    ars_expect_rc(r 0 "a first run with the defaults")
else()
    ars_run(r first.ini --quiet --output first.h5)
    ars_expect_rc(r 0 "a first run with the defaults")
    ars_expect_no_match("${r_err}" "stalled|distinct" "a first run with the defaults warns of no stall")
    if(NOT r_out MATCHES "relative error [0-9.]+e-(0[4-9]|[1-9][0-9])")
        ars_fail("a first run with the defaults: expected a relative error below 1e-3, got:\n${r_out}")
    endif()
endif()
