# e2e_phase: a learnt phase ([phase] type = conv) through the binary.
#  1. A Heisenberg ring without the Marshall sign: the phase network finds the sign rule (the
#     learnt phases of the samples follow the Marshall sign) and the energy reaches the exact
#     one; Im <E_loc> vanishes within its error; /phase matches the numpy phase network.
#  2. With both symmetries and the Marshall sign: training is bitwise the same for 1 and 2
#     threads and across --resume; the observables (complex ratios) match the numpy
#     recomputation (scripts/obs_ref.py).
#  3. mode = sample from the trained file: /phase against numpy; a file without a phase network
#     starts the phase at 0.
#  4. Bad input: keys of a [phase] section with type = none, an init file whose phase network
#     differs, a phase network in an init file when type = none, --resume with another [phase],
#     a complex Hamiltonian (dm, a term with one Sy) without a phase network.
#  2c. [vmc] symmetry_penalty: the logged penalty against numpy's exact <P_G>, the logged
#     energy is <H>, threads and --resume.
#  2d. [vmc] projected_estimate against numpy's exact energy of the projected state.
#  2e. [model] projection: weights and the final energy against numpy, threads and --resume.
#  5. A complex Hamiltonian: the XX chain with a Dzyaloshinskii-Moriya term trains to its
#     free-fermion energy; mode = exact solves it without a phase network.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

function(py_check file code what)
    execute_process(COMMAND ${PYTHON} -c "import sys, h5py, numpy as np\nf = h5py.File(sys.argv[1], 'r')\n${code}" ${file}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT out MATCHES "^OK")
        ars_fail("${what}: ${out}${err}")
    endif()
endfunction()

function(check_output file what)
    execute_process(COMMAND ${PYTHON} ${SRC}/scripts/check_output.py ${file}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        ars_fail("${what}: check_output.py rejected the file (${rc}):\n${out}${err}")
    endif()
    ars_expect_match("${out}" "phase of first [0-9]+ recomputed" "${what}: the phases recomputed")
endfunction()

# The sanitizer build checks memory, not accuracy: its training runs are short, and the accuracy
# checks run in the normal build only (keeps the CI suite inside its time budget).
set(ITERS 300)
if(SANITIZED)
    set(ITERS 20)
endif()

# 1. The sign rule, learnt.
file(WRITE ${WORK}/heis.ini "[run]
mode = train
[system]
size = 8
total_sz = 0
[model]
layers = 3
features = 8
kernel_size = 3
[phase]
type = conv
[sampler]
n_samples = 512
chunk_size = 128
seed = 3
[hamiltonian]
type = heisenberg
pbc = true
marshall_sign = false
[vmc]
iterations = ${ITERS}
learning_rate = 0.01
final_samples = 8192
")
ars_run(r heis.ini --output heis.h5)
ars_expect_rc(r 0 "training the phase of a Heisenberg ring")
ars_expect_match("${r_out}" "phase: conv, 2 layers of 8 features, kernel_size 5, dilations 1 5, tanh, site phases" "the phase network's summary")
ars_expect_no_match("${r_err}" "not stoquastic" "no positive-network warning with a phase network")
check_output(${WORK}/heis.h5 "the trained phase")
if(NOT SANITIZED)
py_check(${WORK}/heis.h5 "
v = f['vmc'].attrs
rel = v['final_relative_error']
assert rel < 3e-3, 'relative error %g' % rel
im, err = v['final_energy_imag'], v['final_energy_imag_error']
assert abs(im) < 5 * err and err > 0, 'Im <E_loc> = %g +- %g' % (im, err)
assert len(f['vmc/energy_imag'][()]) == 300
# The learnt phase follows the Marshall sign: phi(s) - pi * (up spins on odd sites) is one
# constant mod 2 pi over the samples (up to what the energy cannot see).
s = f['samples'][()]
phi = f['phase'][()] - np.pi * ((s[:, 1::2] > 0).sum(axis=1) % 2)
c = np.exp(1j * phi)
agree = abs(np.mean(c))
assert agree > 0.99, 'the phases do not follow the Marshall sign: |<exp(i(phi - pi M))>| = %g' % agree
print('OK', rel, agree)" "the sign rule")
endif()

# 2. Symmetries, threads, --resume and observables.
file(WRITE ${WORK}/sym.ini "[run]
mode = train
[system]
size = 8
[model]
layers = 2
features = 4
kernel_size = 3
symmetrize = both
[phase]
type = conv
layers = 2
features = 3
kernel_size = 3
kernel_dilation = 1, 2
[sampler]
n_samples = 128
chunk_size = 32
seed = 9
[hamiltonian]
type = j1j2
J2 = 0.3
pbc = false
marshall_sign = true
[vmc]
iterations = 12
checkpoint_every = 3
final_samples = 256
[observables]
names = sx, xx_correlation, energy, renyi2
")
ars_run(r sym.ini --quiet --threads 1 --output s1.h5)
ars_expect_rc(r 0 "training with a phase, 1 thread")
ars_run(r sym.ini --quiet --threads 2 --output s2.h5)
ars_expect_rc(r 0 "training with a phase, 2 threads")
set(same /variables /samples /log_prob /local_energy /local_energy_imag /phase /observables
         /vmc/energy /vmc/energy_imag /vmc/grad_norm)
ars_h5same(${WORK}/s1.h5 ${WORK}/s2.h5 "a phase network with 1 and 2 threads" ${same})
ars_run(r sym.ini --quiet --output sr.h5 --set vmc.iterations=6)
ars_expect_rc(r 0 "6 iterations")
ars_run(r sym.ini --quiet --output sr.h5 --resume)
ars_expect_rc(r 0 "--resume to 12")
ars_h5same(${WORK}/s1.h5 ${WORK}/sr.h5 "6 iterations + --resume to 12 vs 12" ${same})
check_output(${WORK}/s1.h5 "symmetrised modulus and phase")
ars_expect_obs_ref(${WORK}/s1.h5 "a state with a phase")
# scripts/arsampler_io.py reads the final samples' local energies, both parts.
execute_process(COMMAND ${PYTHON} -c "
import sys
sys.path.insert(0, '${SRC}/scripts')
import arsampler_io as io
out = io.load('s1.h5')
n = out.n_samples
assert out.local_energy.shape == (n,) and out.local_energy_imag.shape == (n,), n
assert abs(out.local_energy.mean() - out.vmc['final_energy']) <= 1e-12 * abs(out.vmc['final_energy'])
assert abs(out.local_energy_imag.mean() - out.vmc['final_energy_imag']) <= 1e-12
assert io.load('s1.h5', read_samples=False).local_energy is None
" WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("arsampler_io's local energies of s1.h5:\n${out}${err}")
endif()

# 2b. [vmc] phase_learning_rate_factor f: one step moves the phase parameters f times as far as
#     with f = 1 (0: not at all) and the modulus's exactly as with f = 1; the logged step length
#     is lr sqrt(x_mod^T S x_mod + f^2 x_ph^T S x_ph), S being block diagonal.
set(one --quiet --set vmc.iterations=1 --set vmc.final_samples=16)
ars_run(r sym.ini ${one} --output pf_init.h5 --set vmc.iterations=0)
ars_run(r sym.ini ${one} --output pf_1.h5)
ars_run(r sym.ini ${one} --output pf_0.h5 --set vmc.phase_learning_rate_factor=0)
ars_run(r sym.ini --output pf_3.h5 --set vmc.iterations=1 --set vmc.final_samples=16
        --set vmc.phase_learning_rate_factor=3)
ars_expect_rc(r 0 "one step with phase_learning_rate_factor = 3")
ars_expect_match("${r_out}" "phase steps 3 times as long" "the factor in the header")
execute_process(COMMAND ${PYTHON} -c "
import h5py, sys, numpy as np
def parts(path):
    f = h5py.File(path, 'r')
    mod, ph = [], []
    f['variables'].visititems(lambda k, d: (ph if k.startswith('phase') else mod).append(d[()].ravel())
                              if isinstance(d, h5py.Dataset) else None)
    sl = f['vmc/step_length'][()]
    return np.concatenate(mod), np.concatenate(ph), float(sl[0]) if len(sl) else None
(m0, p0, _), (m1, p1, l1), (mz, pz, lz), (m3, p3, l3) = (parts(a) for a in sys.argv[1:5])
d1 = p1 - p0
assert np.abs(d1).max() > 0 and np.abs(m1 - m0).max() > 0
assert np.array_equal(m1, mz) and np.array_equal(m1, m3), 'the modulus step depends on the factor'
assert np.array_equal(pz, p0), 'factor 0 moved the phase'
assert np.allclose(p3 - p0, 3 * d1, rtol=1e-12, atol=1e-14 * np.abs(d1).max()), np.abs(p3 - p0 - 3 * d1).max()
assert abs(l3 ** 2 - (lz ** 2 + 9 * (l1 ** 2 - lz ** 2))) <= 1e-9 * l3 ** 2, (lz, l1, l3)
print('OK')
" ${WORK}/pf_init.h5 ${WORK}/pf_1.h5 ${WORK}/pf_0.h5 ${WORK}/pf_3.h5
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^OK")
    ars_fail("phase_learning_rate_factor does not scale the phase's step as documented:\n${out}${err}")
endif()

# 2c. [vmc] symmetry_penalty: training descends <H> + lambda (1 - <P_G>) and logs <H>. On a
#     ring, G = translations and reflection: iteration 0 logs the same energy as without the
#     penalty, and lambda (1 - mean Re P_loc) within 5 standard errors of numpy's exact
#     <P_G> of the initial state (enumerated, with the error from the exact variance); the
#     step differs; 1 and 2 threads and --resume give the same bits.
set(pen --set hamiltonian.pbc=true --set vmc.symmetry_penalty=2
    --set "vmc.symmetry_penalty_group=translation, reflection")
ars_run(r sym.ini ${pen} --quiet --output pen_init.h5 --set vmc.iterations=0 --set vmc.final_samples=16)
ars_expect_rc(r 0 "the initial state of a penalised run")
ars_run(r sym.ini ${pen} --quiet --output pen_big.h5 --set vmc.iterations=1 --set vmc.final_samples=16
    --set sampler.n_samples=4096)
ars_expect_rc(r 0 "one penalised step of 4096 samples")
ars_run(r sym.ini --quiet --set hamiltonian.pbc=true --output nopen_big.h5 --set vmc.iterations=1
    --set vmc.final_samples=16 --set sampler.n_samples=4096)
ars_expect_rc(r 0 "the same step without the penalty")
ars_run(r sym.ini ${pen} --threads 1 --output pen1.h5)
ars_expect_rc(r 0 "penalised training, 1 thread")
ars_expect_match("${r_out}" "symmetry penalty 2 \\(1 - <P_G>\\), G: reflection, translation"
    "the header names the penalty")
ars_run(r sym.ini ${pen} --quiet --threads 2 --output pen2.h5)
ars_expect_rc(r 0 "penalised training, 2 threads")
ars_h5same(${WORK}/pen1.h5 ${WORK}/pen2.h5 "a penalised run with 1 and 2 threads"
    /variables /vmc/energy /vmc/symmetry_penalty /vmc/grad_norm)
ars_run(r sym.ini ${pen} --quiet --output penr.h5 --set vmc.iterations=6)
ars_run(r sym.ini ${pen} --quiet --output penr.h5 --resume)
ars_expect_rc(r 0 "--resume of a penalised run")
ars_h5same(${WORK}/pen1.h5 ${WORK}/penr.h5 "a penalised run: 6 iterations + --resume to 12 vs 12"
    /variables /vmc/energy /vmc/symmetry_penalty)
execute_process(COMMAND ${PYTHON} -c "
import sys, h5py, numpy as np
sys.path.insert(0, '${SRC}/scripts')
import arnn_ref as ar
init, big, nopen, run = sys.argv[1:5]
model = ar.load_model(init)
phase = ar.load_phase(init, marshall_sign=True)
L = model['size']
s = np.array([[1 if (i >> t) & 1 else -1 for t in range(L)] for i in range(2 ** L)], dtype=np.int8)
def psi(c):
    return np.exp(ar.log_psi(c, model) + 1j * ar.phase_phi(c, phase))
p0 = psi(s)
images = [np.roll(s, k, axis=1) for k in range(L)] + [np.roll(s[:, ::-1], k, axis=1) for k in range(L)]
ploc = np.mean([psi(g) for g in images], axis=0) / p0
w = np.abs(p0) ** 2
w /= w.sum()
mean = float(np.sum(w * ploc.real))
sd = float(np.sqrt(np.sum(w * (ploc.real - mean) ** 2) / 4096))
fb, fn = h5py.File(big, 'r'), h5py.File(nopen, 'r')
logged = float(fb['vmc/symmetry_penalty'][0]) / 2.0
assert abs(logged - (1.0 - mean)) < 5 * sd, (logged, 1.0 - mean, sd)
assert 0.02 < 1.0 - mean < 0.98, mean
assert float(fn['vmc/symmetry_penalty'][0]) == 0.0
assert fb['vmc/energy'][0] == fn['vmc/energy'][0], 'the logged energy is not <H>'
vb = fb['variables/params/layers_0/kernel'][()]
vn = fn['variables/params/layers_0/kernel'][()]
assert np.abs(vb - vn).max() > 1e-6, 'the penalty did not change the step'
pen = h5py.File(run, 'r')['vmc/symmetry_penalty'][()]
assert len(pen) == 12 and (pen > 0).all(), pen
print('OK', logged, 1.0 - mean, sd)
" ${WORK}/pen_init.h5 ${WORK}/pen_big.h5 ${WORK}/nopen_big.h5 ${WORK}/pen1.h5
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^OK")
    ars_fail("symmetry_penalty: the logged penalty or its wiring:\n${out}${err}")
endif()

# 2d. [vmc] projected_estimate: the final estimate's energy of P_G psi (G: translations) and
#     <P_G> within 5 standard errors of numpy's exact values for the initial state (the vector
#     P_G psi built from its images, H dense), and its plain energy too (which checks numpy's H).
ars_run(r sym.ini --set hamiltonian.pbc=true --set vmc.iterations=0 --set vmc.final_samples=16384
    --set vmc.projected_estimate=translation --output proj.h5)
ars_expect_rc(r 0 "a projected estimate")
ars_expect_match("${r_out}" "final, projected onto the symmetric states: E = " "the projected line")
execute_process(COMMAND ${PYTHON} -c "
import sys, h5py, numpy as np
sys.path.insert(0, '${SRC}/scripts')
import arnn_ref as ar
sys.path.insert(0, '${SRC}/tests/phase')
import ring_projection as rp
path = sys.argv[1]
model = ar.load_model(path)
phase = ar.load_phase(path, marshall_sign=True)
s = rp.configurations(model['size'])
psi = np.exp(ar.log_psi(s, model) + 1j * ar.phase_phi(s, phase))
H = rp.j1j2_ring(s, 0.3)
def energy(v):
    return rp.energy(H, v)
pv = rp.translation_projection(psi, s)
overlap = float(np.vdot(pv, pv).real / np.vdot(psi, psi).real)
a = h5py.File(path, 'r')['vmc'].attrs
checks = ((a['final_energy'], a['final_energy_error'], energy(psi)),
          (a['final_projected_energy'], a['final_projected_energy_error'], energy(pv)),
          (a['final_symmetry_overlap'], a['final_symmetry_overlap_error'], overlap))
for got, err, exact in checks:
    assert abs(got - exact) < 5 * err, (got, err, exact)
assert abs(energy(pv) - energy(psi)) > 20 * a['final_projected_energy_error'], 'vacuous'
assert 0.05 < overlap < 0.95, overlap
print('OK', checks)
" ${WORK}/proj.h5 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^OK")
    ars_fail("projected_estimate against numpy's exact projected state:\n${out}${err}")
endif()

# 2e. [model] projection: the state P_G psi (G: translations), trained on samples of p_sym with
#     importance weights. 1 and 2 threads and --resume give the same bits; numpy recomputes each
#     final sample's weight |sum_g psi(g s)|^2 / (|G| sum_g |psi(g s)|^2) from the plain network;
#     the weighted mean of /local_energy is the final energy, which lies within 5 standard errors
#     of numpy's exact energy of the vector P_G psi; scripts/enumerate-state gives that energy.
set(prj --quiet --set hamiltonian.pbc=true --set model.symmetrize=translation
    --set model.projection=true --set observables.names=none --set vmc.iterations=8
    --set vmc.final_samples=4096)
ars_run(r sym.ini ${prj} --threads 1 --output prj1.h5)
ars_expect_rc(r 0 "a projected state, 1 thread")
ars_run(r sym.ini ${prj} --threads 2 --output prj2.h5)
ars_expect_rc(r 0 "a projected state, 2 threads")
set(psame /variables /samples /log_prob /local_energy /local_energy_imag /importance_weight
    /vmc/energy /vmc/grad_norm)
ars_h5same(${WORK}/prj1.h5 ${WORK}/prj2.h5 "a projected state with 1 and 2 threads" ${psame})
ars_run(r sym.ini ${prj} --output prjr.h5 --set vmc.iterations=4)
ars_run(r sym.ini ${prj} --output prjr.h5 --resume)
ars_expect_rc(r 0 "--resume of a projected state")
ars_h5same(${WORK}/prj1.h5 ${WORK}/prjr.h5 "a projected state: 4 iterations + --resume to 8 vs 8"
    ${psame})
execute_process(COMMAND ${PYTHON} -c "
import sys, h5py, numpy as np
sys.path.insert(0, '${SRC}/scripts')
import arnn_ref as ar
path = sys.argv[1]
f = h5py.File(path, 'r')
model = ar.load_model(path)
assert model['symmetrize'] == 'translation', model['symmetrize']
model['symmetrize'] = 'none'
phase = ar.load_phase(path, marshall_sign=True)
phase['symmetrize'] = 'none'
L = model['size']
def psi(c):
    return np.exp(ar.log_psi(c, model) + 1j * ar.phase_phi(c, phase))
# Each sample's weight, from the plain network's images.
smp = f['samples'][:64].astype(np.int8)
imgs = np.array([psi(np.roll(smp, k, axis=1)) for k in range(L)])
w = np.abs(imgs.sum(axis=0)) ** 2 / (L * (np.abs(imgs) ** 2).sum(axis=0))
got = f['importance_weight'][:64]
assert np.allclose(got, w, rtol=1e-10, atol=1e-14), np.abs(got - w).max()
a = f['vmc'].attrs
import arsampler_io as io
out = io.load(path)
wt = out.importance_weight
assert np.array_equal(wt, f['importance_weight'][()])
mean = float(np.sum(wt * out.local_energy) / np.sum(wt))
assert abs(mean - a['final_energy']) <= 1e-12 * abs(mean), (mean, a['final_energy'])
# The exact energy of P_G psi, dense (tests/phase/ring_projection.py).
sys.path.insert(0, '${SRC}/tests/phase')
import ring_projection as rp
s = rp.configurations(L)
p0 = psi(s)
H = rp.j1j2_ring(s, 0.3)
E = rp.energy(H, rp.translation_projection(p0, s))
E_plain = rp.energy(H, p0)
assert abs(a['final_energy'] - E) < 5 * a['final_energy_error'], (a['final_energy'], a['final_energy_error'], E)
assert abs(E - E_plain) > 10 * a['final_energy_error'], 'vacuous: the projection changes nothing'
# scripts/enumerate-state (sparse, sorted configurations, the group of the file) agrees.
import subprocess
r = subprocess.run([sys.executable, '${SRC}/scripts/enumerate-state', path], capture_output=True,
                   text=True)
assert r.returncode == 0, r.stderr
line = [l for l in r.stdout.splitlines() if l.startswith('the state P_G psi')][0]
E_script = float(line.split('E = ')[1].split(',')[0])
assert abs(E_script - E) <= 1e-9 * abs(E), (E_script, E)
print('OK', a['final_energy'], a['final_energy_error'], E, E_plain, E_script)
" ${WORK}/prj1.h5 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^OK")
    ars_fail("[model] projection against numpy's projected state:\n${out}${err}")
endif()

# 3. Sampling from the trained file; a file without a phase network.
ars_run(r sym.ini --output samp.h5 --set run.mode=sample --set model.init=s1.h5
        --set sampler.n_samples=300)
ars_expect_rc(r 0 "sampling with a phase network")
ars_expect_match("${r_out}" "phase: conv" "the sample header names the phase network")
check_output(${WORK}/samp.h5 "the samples' phases")
py_check(${WORK}/samp.h5 "
assert f['phase'].shape == (300,)
assert (f['variables/phase/beta'][()] == h5py.File(sys.argv[1].replace('samp.h5', 's1.h5'), 'r')['variables/phase/beta'][()]).all()
print('OK')" "the sampled file's phase network")
# The Jastrow term: training with it is the same bits for 1 and 2 threads, numpy's
#     recomputation of the observables (arnn_ref.py's own Jastrow sum) agrees, the weights are
#     written and have moved from 0; a file without the term loads into a config with it as the
#     same state (w = 0: the same phases, bit for bit), and the other way round is refused.
ars_run(r sym.ini --quiet --threads 1 --output j1.h5 --set phase.jastrow=true)
ars_expect_rc(r 0 "training with a Jastrow phase, 1 thread")
ars_run(r sym.ini --quiet --threads 2 --output j2.h5 --set phase.jastrow=true)
ars_expect_rc(r 0 "training with a Jastrow phase, 2 threads")
ars_h5same(${WORK}/j1.h5 ${WORK}/j2.h5 "a Jastrow phase with 1 and 2 threads" ${same})
check_output(${WORK}/j1.h5 "a Jastrow phase")
ars_expect_obs_ref(${WORK}/j1.h5 "a state with a Jastrow phase")
py_check(${WORK}/j1.h5 "
w = f['variables/phase/jastrow'][()]
assert w.shape == (7,), w.shape  # L - 1 distances on the open 8-site chain
assert (w != 0).all(), w
assert f['phase'].attrs['jastrow'] == 1
print('OK')" "the Jastrow weights")
ars_run(r sym.ini --quiet --output jsamp.h5 --set run.mode=sample --set model.init=s1.h5
        --set sampler.n_samples=300 --set phase.jastrow=true)
ars_expect_rc(r 0 "a file without the Jastrow term into a config with it")
py_check(${WORK}/jsamp.h5 "
g = h5py.File(sys.argv[1].replace('jsamp.h5', 'samp.h5'), 'r')
assert (f['samples'][()] == g['samples'][()]).all()
assert (f['phase'][()] == g['phase'][()]).all(), 'the same state, the same phases'
assert (f['variables/phase/jastrow'][()] == 0).all()
print('OK')" "the state of a file without the Jastrow term")
ars_run(r sym.ini --quiet --output other.h5 --set run.mode=sample --set model.init=j1.h5)
ars_expect_rc(r 2 "a Jastrow file into a config without the term")
ars_expect_one_line("${r_err}" "'j1.h5': its phase network has jastrow true but \\[phase\\] has false" "a Jastrow file into a config without the term")

# Size transfer: the 8-site network starts a 12-site run; the conv layers are the file's, the
# site phases repeat with period 8, and the run says what it transferred.
ars_run(r sym.ini --output big.h5 --set run.mode=sample --set model.init=s1.h5
        --set system.size=12 --set sampler.n_samples=64)
ars_expect_rc(r 0 "init from the 8-site file for 12 sites")
ars_expect_match("${r_out}" "init: 's1.h5' is a chain of 8 sites, this run has 12: transferred the modulus network's [0-9]+ parameters \\(they do not depend on the length\\) and the phase network's [0-9]+, its site phases repeated with period 8"
                 "the size-transfer line")
py_check(${WORK}/big.h5 "
g = h5py.File(sys.argv[1].replace('big.h5', 's1.h5'), 'r')
for k in ('variables/params/layers_0/kernel', 'variables/phase/layers_0/kernel', 'variables/phase/layers_1/bias'):
    assert (f[k][()] == g[k][()]).all(), k
b, bg = f['variables/phase/beta'][()], g['variables/phase/beta'][()]
assert b.shape == (12, 2) and bg.shape == (8, 2)
assert (b == bg[np.arange(12) % 8]).all()
print('OK')" "the transferred phase network")
check_output(${WORK}/big.h5 "the transferred state's phases")
ars_run(r sym.ini --quiet --output real.h5 --set phase.type=none --set phase.layers=2
        --set phase.features=3 --set phase.kernel_size=3 --set phase.kernel_dilation=1,2)
ars_expect_rc(r 2 "[phase] keys with type = none")
ars_expect_one_line("${r_err}" "--set phase.layers=2: \\[phase\\] layers: only with a phase network, but type = none" "[phase] keys with type = none")
file(WRITE ${WORK}/real.ini "[run]
mode = train
[system]
size = 8
[model]
layers = 2
features = 4
kernel_size = 3
symmetrize = both
[sampler]
n_samples = 64
chunk_size = 32
[hamiltonian]
type = j1j2
J2 = 0.3
pbc = false
marshall_sign = true
[vmc]
iterations = 2
final_samples = 64
")
ars_run(r real.ini --quiet --output real.h5)
ars_expect_rc(r 0 "a real state")
ars_run(r sym.ini --output zero.h5 --set run.mode=sample --set model.init=real.h5
        --set sampler.n_samples=100)
ars_expect_rc(r 0 "a phase network from a file without one")
ars_expect_match("${r_out}" "has no phase network; the phase network starts at phase 0" "the note")
py_check(${WORK}/zero.h5 "
phi = f['phase'][()]
s = f['samples'][()]
assert np.allclose(phi, np.pi * ((s[:, 1::2] > 0).sum(axis=1) % 2), atol=1e-12), 'phase %r' % phi[:4]
print('OK')" "phase 0 on top of the Marshall sign")

# 4. Bad input: exit status 2, one line naming the place, nothing written.
file(WRITE ${WORK}/bad.ini "[run]
mode = sample
[system]
size = 8
[phase]
type = none
features = 4
[output]
file = bad.h5
")
ars_run(r bad.ini)
ars_expect_rc(r 2 "a [phase] key with type = none")
ars_expect_one_line("${r_err}" "bad.ini:7: \\[phase\\] features: only with a phase network, but type = none" "a [phase] key with type = none")
ars_run(r sym.ini --quiet --output other.h5 --set run.mode=sample --set model.init=s1.h5 --set phase.features=5)
ars_expect_rc(r 2 "an init file with another phase network")
ars_expect_one_line("${r_err}" "'s1.h5': its phase network has features 3 but \\[phase\\] has 5" "an init file with another phase network")
ars_run(r real.ini --quiet --output other.h5 --set run.mode=sample --set model.init=s1.h5)
ars_expect_rc(r 2 "a phase network in the init file of a real state")
ars_expect_one_line("${r_err}" "\\[phase\\] type: none, but the init file 's1.h5' holds a phase network" "a phase network in the init file of a real state")
file(SHA256 ${WORK}/sr.h5 before)
ars_run(r sym.ini --quiet --output sr.h5 --resume --set vmc.iterations=14 --set phase.features=4)
ars_expect_rc(r 2 "--resume with another [phase]")
ars_expect_one_line("${r_err}" "its phase network has features 3 but \\[phase\\] has 4" "--resume with another [phase]")
file(SHA256 ${WORK}/sr.h5 after)
if(NOT before STREQUAL after)
    ars_fail("a refused --resume changed the file")
endif()
foreach(f bad.h5 other.h5)
    if(EXISTS ${WORK}/${f})
        ars_fail("a refused run wrote ${f}")
    endif()
endforeach()

# 5. The XX chain with a DM term (imaginary elements): free fermions, and training with a phase.
file(WRITE ${WORK}/dm.ini "[run]
mode = train
[system]
size = 8
total_sz = 0
[model]
layers = 3
features = 8
kernel_size = 3
[phase]
type = conv
[sampler]
n_samples = 512
chunk_size = 128
seed = 3
[hamiltonian]
type = xxz
Delta = 0
dm = 1.0
pbc = false
marshall_sign = true
[vmc]
iterations = ${ITERS}
learning_rate = 0.01
final_samples = 8192
")
ars_run(r dm.ini --output dm.h5)
ars_expect_rc(r 0 "training the XX chain with a DM term")
ars_expect_match("${r_out}" "hamiltonian: xxz, J 1, Delta 0, dm 1, open, Marshall sign; exact energy -13.45983551[0-9]* \\(free fermions\\)" "the free-fermion reference")
if(NOT SANITIZED)
py_check(${WORK}/dm.h5 "
v = f['vmc'].attrs
assert f['hamiltonian'].attrs['dm'] == 1.0
rel = v['final_relative_error']
assert rel < 1e-2, 'relative error %g' % rel
im, err = v['final_energy_imag'], v['final_energy_imag_error']
assert abs(im) < 5 * err, 'Im <E_loc> = %g +- %g' % (im, err)
print('OK', rel)" "the DM chain")
endif()
file(WRITE ${WORK}/dm_real.ini "[run]
mode = train
[system]
size = 8
[hamiltonian]
type = xxz
Delta = 0
dm = 1.0
[output]
file = dm_real.h5
")
ars_run(r dm_real.ini)
ars_expect_rc(r 2 "a DM term without a phase network")
ars_expect_one_line("${r_err}" "dm_real.ini:8: \\[hamiltonian\\] dm: a Dzyaloshinskii-Moriya term makes the Hamiltonian complex" "a DM term without a phase network")
ars_run(r dm_real.ini --set run.mode=exact --output dm_exact.h5)
ars_expect_rc(r 0 "mode = exact of a complex Hamiltonian")
ars_expect_match("${r_out}" "free fermions" "mode = exact: the method")
file(WRITE ${WORK}/sy.ini "[run]
mode = train
[system]
size = 6
[hamiltonian]
type = terms
term = 1.0 Sz(i) Sz(i+1)
term = 0.5 Sx(i) Sy(i+1)
term = -0.5 Sy(i) Sx(i+1)
[output]
file = sy.h5
")
ars_run(r sy.ini)
ars_expect_rc(r 2 "a term with one Sy without a phase network")
ars_expect_one_line("${r_err}" "sy.ini:8: term '0.5 Sx\\(i\\) Sy\\(i\\+1\\)': an odd number of Sy/Y makes the Hamiltonian complex" "a term with one Sy without a phase network")
ars_run(r sy.ini --set run.mode=exact --output sy_exact.h5)
ars_expect_rc(r 0 "mode = exact of complex terms")
foreach(f dm_real.h5 sy.h5)
    if(EXISTS ${WORK}/${f})
        ars_fail("a refused run wrote ${f}")
    endif()
endforeach()
