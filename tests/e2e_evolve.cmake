# e2e_evolve: [run] mode = evolve (time-dependent VMC) through the binary.
#  1. A TFIM quench |+x> -> h = 1 on a 6-site ring follows the exact <X(t)> (the state vector of
#     scripts/evolve_ref.py) to t = 0.3, and the energy stays at its t = 0 value;
#     check_output.py accepts the file, and arsampler-report summarises it and plots <X(t)>
#     beside the exact curve.
#  2. The same bits for 1 and 2 threads, and across --resume (a run to t = 0.2 continued to
#     0.3 equals the run to 0.3).
#  3. Imaginary time without a phase network lowers the energy towards the ground state.
#  4. Bad input: t_end <= 0, dt < 0, tolerance = 0, real time without a phase network, an
#     [evolve] key in another mode, x_polarized with the Marshall sign, an init file of
#     another network, --resume of a file without /evolution, dt_min > dt. Each: one message,
#     status 2.
#  5. A step that cannot meet the tolerance at dt_min stops the run with advice (status 1) and
#     keeps its state for --resume; dt_max caps the steps.
#  6. regularization = snr (S inverted in its eigenbasis): with snr_tolerance = 0 (the
#     pseudo-inverse alone) the same quench follows the exact <X(t)> as closely as the shift;
#     with the default noise cut-off the same bits for 1 and 2 threads and across --resume;
#     its tolerances without it are refused. (The cut-off itself is test_optimizer's: it drops
#     directions, which on this quench costs accuracy: docs/evolution.md.)
#  7. common_samples: the header, the exact curve, --resume.
#  8. reweight (a step's stages reweight its first samples): the header, the exact curve, the
#     same bits for 1 and 2 threads and across --resume, --resume after a stop at dt_min; not
#     with common_samples, snr or fixed steps.
#  Under the sanitizers (memory, not accuracy: CI time) less is checked: no reference
#  comparison, no thread comparison, no imaginary-time run, 1024 samples per measurement.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

set(MEASURE 8192)
if(SANITIZED)
    set(MEASURE 1024)
endif()

file(WRITE ${WORK}/quench.ini "[run]
mode = evolve
[system]
size = 6
[model]
layers = 2
features = 8, 2
kernel_size = 3
init = x_polarized
[phase]
type = conv
layers = 2
features = 8
kernel_size = 5
[sampler]
n_samples = 512
chunk_size = 128
seed = 5
[hamiltonian]
type = tfim
h = 1.0
pbc = true
[evolve]
t_end = 0.3
dt = 0.01
integrator = heun
tolerance = 2e-3
measure_every = 0.1
measure_samples = ${MEASURE}
[observables]
names = sx, zz_correlation
operator = x0: 1 X(0)
operator = zz1: 0.5 Z(i) Z(i+1)
")

# FILE's <X(t)> is within 6e-3 of the state vector's to t = 0.3 (scripts/evolve_ref.py).
function(follows_the_exact_curve file what)
    execute_process(COMMAND ${PYTHON} ${SRC}/scripts/evolve_ref.py compare ${WORK}/${file}
                            --tmax 0.3 --method statevector --max-sx-error 6e-3
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    message(STATUS "${out}")
    if(NOT rc EQUAL 0)
        ars_fail("${what} against the exact <X(t)>: ${out}${err}")
    endif()
endfunction()

# resumed_equals(FULL SPLIT WHAT ARGS...): the quench with ARGS run to t = 0.2 into SPLIT and
# continued with --resume to t = 0.3 equals FULL, the same run in one go, bit for bit.
function(resumed_equals full split what)
    ars_run(r quench.ini --set output.file=${split} ${ARGN} --set evolve.t_end=0.2)
    ars_expect_rc(r 0 "${what}: the quench to t = 0.2")
    ars_run(r quench.ini --set output.file=${split} ${ARGN} --resume)
    ars_expect_rc(r 0 "${what}: --resume to t = 0.3")
    ars_h5same(${WORK}/${full} ${WORK}/${split} "${what}: to t = 0.2 + --resume and to t = 0.3"
               ${SAME})
endfunction()

# one_thread_equals(FILE WHAT ARGS...): the quench with ARGS on 1 thread equals FILE (2 threads).
function(one_thread_equals file what)
    ars_run(r quench.ini --set output.file=1t_${file} ${ARGN} --set run.threads=1)
    ars_expect_rc(r 0 "${what}: the quench on 1 thread")
    ars_h5same(${WORK}/${file} ${WORK}/1t_${file} "${what}: 1 and 2 threads" ${SAME})
endfunction()

# 1. Against the exact dynamics.
ars_run(a quench.ini --set output.file=a.h5)
ars_expect_rc(a 0 "the quench")
ars_expect_match("${a_out}" "evolution: t = 0.3 in [0-9]+ steps" "the summary line")
ars_expect_match("${a_err}" "t 0.3000/0.3  dt" "a progress line per measurement")
if(NOT SANITIZED)
    follows_the_exact_curve(a.h5 "the quench")
endif()
execute_process(COMMAND ${PYTHON} -c "import h5py, numpy as np, sys
g = h5py.File(sys.argv[1], 'r')['evolution']
E, dE = g['energy'][()], g['energy_error'][()]
assert g['time'][()].tolist() == [0.0, 0.1, 0.2, 0.3], g['time'][()]
assert g['observables/sx/mean'].shape == (4, 6) and g['observables/zz_correlation/mean'].shape == (4, 4)
# user operators: scalars per time, equal to the built-in estimators on the same samples
o = g['observables']
assert o['x0/mean'].shape == (4,) and o['zz1/error'].shape == (4,), o['x0/mean'].shape
assert np.allclose(o['x0/mean'][()], o['sx/mean'][:, 0], rtol=0, atol=1e-12)
assert np.allclose(o['zz1/mean'][()], 3.0 * o['zz_correlation/mean'][:, 1], rtol=0, atol=1e-12)
# the energy of |+x> is -h N = -6 exactly; it is conserved within the estimates' errors
assert np.all(np.abs(E + 6.0) < 4 * np.hypot(dE, dE[0]) + 1e-3), (E, dE)
s = g['steps']
assert s['accepted'][()].sum() == g.attrs['steps_accepted'] and len(s['t']) == g.attrs['steps_accepted'] + g.attrs['steps_rejected']
assert np.all(s['residual'][()] < 0.1), s['residual'][()]
print('OK')" ${WORK}/a.h5 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^OK")
    ars_fail("the /evolution datasets: ${out}${err}")
endif()

if(NOT SANITIZED)
    # The report plots <sx(t)> beside the exact curve.
    execute_process(COMMAND ${PYTHON} ${SRC}/scripts/arsampler-report ${WORK}/a.h5 -o ${WORK}/rep
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT EXISTS ${WORK}/rep/evolution.png
       OR NOT EXISTS ${WORK}/rep/evolution_observables.png
       OR NOT out MATCHES "evolution: real time, heun, t = 0.3 of 0.3; 4 measurements")
        ars_fail("arsampler-report on the evolution (${rc}): ${out}${err}")
    endif()
endif()
execute_process(COMMAND ${PYTHON} ${SRC}/scripts/check_output.py ${WORK}/a.h5
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("check_output.py rejected the evolution's file: ${out}${err}")
endif()

# 2. Threads and --resume do not change a bit.
set(SAME /evolution/time /evolution/energy /evolution/energy_error /evolution/energy_imag
    /evolution/observables /evolution/k0 /evolution/steps/t /evolution/steps/dt
    /evolution/steps/error /evolution/steps/residual /evolution/steps/energy /variables)
if(NOT SANITIZED)
    ars_run(b quench.ini --set output.file=b.h5 --set run.threads=1)
    ars_expect_rc(b 0 "the quench on 1 thread")
    execute_process(COMMAND ${PYTHON} ${H5SAME} ${WORK}/a.h5 ${WORK}/b.h5 ${SAME}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        ars_fail("1 and 2 threads differ: ${out}${err}")
    endif()
endif()
ars_run(c1 quench.ini --set output.file=c.h5 --set evolve.t_end=0.2)
ars_expect_rc(c1 0 "the quench to t = 0.2")
ars_run(c2 quench.ini --set output.file=c.h5 --resume)
ars_expect_rc(c2 0 "--resume to t = 0.3")
ars_expect_match("${c2_out}" "resuming at t = 0.2 from c.h5" "the resume line")
# Another set of user operators cannot continue the record.
ars_run(r quench.ini --set output.file=c.h5 --resume --set evolve.t_end=0.4
        "--set=observables.operator=x1: 1 X(1)")
ars_expect_rc(r 2 "--resume with another operator")
ars_expect_match("${r_err}" "/evolution/observables/x1 is missing, but this run's \\[observables\\] measures it: resume with the same \\[observables\\]"
                 "--resume with another operator")
execute_process(COMMAND ${PYTHON} ${H5SAME} ${WORK}/a.h5 ${WORK}/c.h5 ${SAME}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("the resumed evolution differs from the uninterrupted one: ${out}${err}")
endif()

# 3. Imaginary time, no phase network: towards the ground state (E0 = -7.7274 for N = 6; this
# two-layer network stops within 1% of it).
file(READ ${WORK}/quench.ini text)
string(REGEX REPLACE "\\[phase\\][^[]*" "" phaseless "${text}")
file(WRITE ${WORK}/imaginary.ini "${phaseless}")
if(NOT SANITIZED)
    ars_run(im imaginary.ini --set output.file=im.h5 --set evolve.imaginary=true
            --set evolve.t_end=2.0 --set evolve.measure_every=0.5 --set evolve.tolerance=1e-2
            --set model.init=random)
    ars_expect_rc(im 0 "imaginary time")
    execute_process(COMMAND ${PYTHON} -c "import h5py, sys
E = h5py.File(sys.argv[1], 'r')['evolution/energy'][()]
assert E[-1] < -7.65 and E[-1] < E[0] - 1.0 and all(E[1:] < E[:-1] + 0.01), E
print('OK')" ${WORK}/im.h5 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT out MATCHES "^OK")
        ars_fail("imaginary time did not approach the ground state: ${out}${err}")
    endif()
endif()

# 4. Bad input (imaginary.ini: no [phase] section).
function(rejects what regex)
    ars_run(r quench.ini --set output.file=bad.h5 ${ARGN})
    ars_expect_rc(r 2 "${what}")
    ars_expect_match("${r_err}" "${regex}" "${what}")
    ars_expect_count("${r_err}" "\n" 1 "${what}: one line")
    if(EXISTS ${WORK}/bad.h5)
        ars_fail("${what}: wrote bad.h5")
    endif()
endfunction()
rejects("t_end = 0" "\\[evolve\\] t_end: must be > 0 \\(got 0\\)" --set evolve.t_end=0)
rejects("dt < 0" "\\[evolve\\] dt: .*-0.1" --set evolve.dt=-0.1)
rejects("tolerance = 0" "\\[evolve\\] tolerance: must be > 0" --set evolve.tolerance=0)
rejects("snr_tolerance without regularization = snr"
        "\\[evolve\\] snr_tolerance: only with \\[evolve\\] regularization = snr"
        --set evolve.snr_tolerance=3)
rejects("an unknown regularization" "\\[evolve\\] regularization: .*shift, snr"
        --set evolve.regularization=svd)
ars_run(r imaginary.ini --set output.file=bad.h5)
ars_expect_rc(r 2 "real time without a phase network")
ars_expect_match("${r_err}" "^imaginary.ini:2: \\[run\\] mode: evolve in real time needs a phase network"
                 "real time without a phase network")
rejects("an [evolve] key in mode = sample" "quench.ini:24: \\[evolve\\] t_end: only with \\[run\\] mode = evolve"
        --set run.mode=sample --set evolve.dt=0.1)
rejects("x_polarized with the Marshall sign" "x_polarized is \\|\\+x>\\^N"
        --set hamiltonian.marshall_sign=true)
string(REGEX REPLACE "\\[evolve\\][^[]*" "" text "${text}")
file(WRITE ${WORK}/sample.ini "${text}")
ars_run(net sample.ini --set run.mode=sample --set output.file=other.h5 --set model.features=4,2
        --set model.init=random)
ars_expect_rc(net 0 "a network of another shape")
rejects("an init file of another network" "other.h5.*features" --set model.init=other.h5)
ars_run(tr sample.ini --set run.mode=train --set output.file=train.h5 --set vmc.iterations=2
        --set model.init=random)
ars_expect_rc(tr 0 "a short training")
ars_run(r quench.ini --set output.file=train.h5 --resume)
ars_expect_rc(r 2 "--resume of a training output")
ars_expect_match("${r_err}" "has no /evolution group" "--resume of a training output")
rejects("dt_min > dt" "\\[evolve\\] dt_min: must not exceed dt = 0.01 \\(got 0.02\\)"
        --set evolve.dt_min=0.02)

# 5. A tolerance no step can meet at dt_min: the run stops (status 1) with advice, and its file
#    holds the state at t = 0 for --resume with other settings.
ars_run(r quench.ini --set output.file=stuck.h5 --set evolve.tolerance=1e-12
        --set evolve.dt_min=0.01 --set evolve.dt_max=0.01)
ars_expect_rc(r 1 "a step below dt_min")
ars_expect_match("${r_err}" "the step size fell to \\[evolve\\] dt_min = 0.01"
                 "a step below dt_min: the advice")
ars_expect_match("${r_err}" "continue it with --resume" "a step below dt_min: the state is kept")
ars_run(r quench.ini --set output.file=stuck.h5 --resume --set evolve.t_end=0.1
        --set evolve.dt_max=0.004)
ars_expect_rc(r 0 "--resume after a step below dt_min, with the default tolerance")
execute_process(COMMAND ${PYTHON} -c "import h5py, sys
s = h5py.File(sys.argv[1], 'r')['evolution/steps']
ok = s['accepted'][()] > 0  # (the stuck run logged its rejected step of 0.01)
assert ok.sum() >= 25 and s['dt'][()][ok].max() <= 0.004 + 1e-15, s['dt'][()]
print('OK')" ${WORK}/stuck.h5 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^OK")
    ars_fail("dt_max does not cap the steps: ${out}${err}")
endif()

# 6. The spectral regularisation (no shift): against the exact curve, threads, --resume.
set(snr --set evolve.regularization=snr --set evolve.diag_shift=0)
ars_run(s1 quench.ini --set output.file=s1.h5 ${snr})
ars_expect_rc(s1 0 "the quench with regularization = snr")
ars_expect_match("${s1_out}" "diag_shift 0, SNR cut-off 2, pinv cut-off 1e-08" "the header")
if(NOT SANITIZED)
    ars_run(s0 quench.ini --set output.file=s0.h5 ${snr} --set evolve.snr_tolerance=0)
    ars_expect_rc(s0 0 "the quench with the pseudo-inverse alone")
    follows_the_exact_curve(s0.h5 "the quench with the pseudo-inverse alone")
    one_thread_equals(s1.h5 "snr" ${snr})
endif()
resumed_equals(s1.h5 s3.h5 "snr" ${snr})

# 7. Common random numbers for a step's evaluations: the header says so, the quench still
#    follows the exact curve, and --resume (which re-evaluates f(theta) from the step's numbers)
#    gives the same bits.
set(crn --set evolve.common_samples=true)
ars_run(m1 quench.ini --set output.file=m1.h5 ${crn})
ars_expect_rc(m1 0 "the quench with common_samples")
ars_expect_match("${m1_out}" "512 samples per evaluation \\(common to a step's stages\\)" "the header")
if(NOT SANITIZED)
    follows_the_exact_curve(m1.h5 "the quench with common_samples")
endif()
resumed_equals(m1.h5 m2.h5 "common_samples" ${crn})

# 8. Reweighted stages: the header says so, the quench follows the exact curve, the bits do not
#    depend on the thread count or on --resume (which draws the step's samples again from its
#    stream), and the combinations with common_samples and snr are refused.
set(rw --set evolve.reweight=true)
ars_run(w1 quench.ini --set output.file=w1.h5 ${rw})
ars_expect_rc(w1 0 "the quench with reweight")
ars_expect_match("${w1_out}" "512 samples per evaluation \\(a step's stages reweight its first\\)"
                 "the header")
if(NOT SANITIZED)
    follows_the_exact_curve(w1.h5 "the quench with reweight")
    one_thread_equals(w1.h5 "reweight" ${rw})
endif()
resumed_equals(w1.h5 w3.h5 "reweight" ${rw})
# A reweighted run stopped at dt_min keeps f(theta) but not its samples: --resume evaluates
# f(theta) again, and the continued run is finite and complete.
ars_run(r quench.ini --set output.file=wstuck.h5 ${rw} --set evolve.tolerance=1e-12
        --set evolve.dt_min=0.01 --set evolve.dt_max=0.01)
ars_expect_rc(r 1 "a reweighted step below dt_min")
ars_run(r quench.ini --set output.file=wstuck.h5 ${rw} --resume --set evolve.t_end=0.1)
ars_expect_rc(r 0 "--resume of the reweighted run stopped at dt_min")
ars_expect_match("${r_out}" "evolution: t = 0.1 in [0-9]+ steps" "the resumed reweighted run")
ars_run(w4 quench.ini --set output.file=w4.h5 ${rw} --set evolve.common_samples=true)
ars_expect_rc(w4 2 "reweight with common_samples")
ars_expect_match("${w4_err}" "reweight: choose one of reweight and common_samples" "the message")
ars_run(w5 quench.ini --set output.file=w5.h5 ${rw} --set evolve.regularization=snr)
ars_expect_rc(w5 2 "reweight with regularization = snr")
ars_expect_match("${w5_err}" "reweight: not with regularization = snr" "the message")
ars_run(w6 quench.ini --set output.file=w6.h5 ${rw} --set evolve.adaptive=false)
ars_expect_rc(w6 2 "reweight with fixed steps")
ars_expect_match("${w6_err}" "reweight: only with adaptive = true" "the message")
