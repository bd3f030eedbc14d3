# e2e_symmetry: [system] total_sz and [model] symmetrize through the binary. Samples lie in the
# sector and their /log_prob is what the independent numpy model (scripts/arnn_ref.py, with its
# own mask and group sum) gives, and so are the observables (scripts/obs_ref.py); the file
# records the sector and the symmetry; training is
# bitwise the same for 1 and 2 threads and across --resume; --resume refuses another symmetry;
# mode = exact gives the lowest energy of the sector (checked against a dense numpy matrix).
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

function(check_output file what)
    execute_process(COMMAND ${PYTHON} ${SRC}/scripts/check_output.py ${file}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        ars_fail("${what}: check_output.py rejected the file (${rc}):\n${out}${err}")
    endif()
    ars_expect_match("${out}" "log_prob of first [0-9]+ recomputed" "${what}: recomputed")
endfunction()

# Runs a short python program on the file; it prints OK or the reason.
function(py_check file code what)
    execute_process(COMMAND ${PYTHON} -c "import sys, h5py, numpy as np\nf = h5py.File(sys.argv[1], 'r')\n${code}" ${file}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT out MATCHES "^OK")
        ars_fail("${what}: ${out}${err}")
    endif()
endfunction()

# 1. Sampling, spin 1/2: 12 sites in the sector total_sz = 1, reflection-symmetrised.
ars_run(r ${QUICKSTART} --quiet --output s.h5 --set system.size=12 --set system.total_sz=1
        --set model.symmetrize=reflection --set sampler.n_samples=2000)
ars_expect_rc(r 0 "sampling in total_sz = 1 with reflection")
check_output(${WORK}/s.h5 "spin 1/2, total_sz 1, reflection")
py_check(${WORK}/s.h5 "
s = f['samples'][()]
assert f['hilbert'].attrs['total_sz'] == 1.0, 'total_sz attribute'
assert f['model'].attrs['symmetrize'] == 'reflection', 'symmetrize attribute'
assert (s.sum(axis=1) == 2).all(), 'a sample outside the sector'
print('OK')" "the sector and symmetry of s.h5")

# 2. Spin 1 in float32, total_sz = 0, both symmetries; then the same file's variables as a
#    plain network (init from it, symmetrize = none): the warning says the state changed.
ars_run(r ${QUICKSTART} --quiet --output s1.h5 --set system.size=7 --set system.spin=1
        --set system.total_sz=0 --set model.symmetrize=both --set model.dtype=float32
        --set sampler.n_samples=1000)
ars_expect_rc(r 0 "spin 1, total_sz 0, both, float32")
check_output(${WORK}/s1.h5 "spin 1, total_sz 0, both, float32")
ars_run(r ${QUICKSTART} --quiet --output s1plain.h5 --set system.size=7 --set system.spin=1
        --set model.init=s1.h5 --set sampler.n_samples=100)
ars_expect_rc(r 0 "init from a symmetrised file without symmetrize")
ars_expect_match("${r_err}" "warning: 's1.h5' holds variables of a network with symmetrize = both; this run uses symmetrize = none" "init across symmetries")
check_output(${WORK}/s1plain.h5 "the variables of s1.h5 as a plain network")

# 2b. Sublattice input channels ([model] sublattice = 3: the one-hot of t mod 3) on 13 sites in
#     total_sz = 1/2, translation-symmetrised: the numpy model appends the same channels.
ars_run(r ${QUICKSTART} --quiet --output sub.h5 --set system.size=13 --set system.total_sz=0.5
        --set model.sublattice=3 --set model.symmetrize=translation --set hamiltonian.pbc=true
        --set sampler.n_samples=500)
ars_expect_rc(r 0 "sublattice 3, total_sz 1/2, translation")
check_output(${WORK}/sub.h5 "sublattice 3, total_sz 1/2, translation")
py_check(${WORK}/sub.h5 "
assert f['model'].attrs['sublattice'] == 3, 'sublattice attribute'
k = f['variables/params/layers_0/kernel']
assert k.shape[1] == 1 + 3, 'layer 0 has %d input channels, expected 4' % k.shape[1]
print('OK')" "the sublattice of sub.h5")
ars_run(r ${QUICKSTART} --quiet --output sub2.h5 --set system.size=13 --set model.init=sub.h5
        --set sampler.n_samples=10)
ars_expect_rc(r 2 "init from a file with another sublattice")
ars_expect_match("${r_err}" "/model sublattice" "init across sublattices names the attribute")

# 3. Training: Heisenberg N = 10 with the Marshall sign, total_sz = 0, both symmetries.
file(WRITE ${WORK}/train.ini "[run]
mode = train
[system]
size = 10
total_sz = 0
[model]
layers = 3
features = 6
kernel_size = 3
kernel_dilation = 1, 2, 4
activation = tanh
symmetrize = both
[sampler]
n_samples = 256
chunk_size = 32
seed = 5
[hamiltonian]
type = heisenberg
marshall_sign = true
[vmc]
iterations = 16
optimizer = adam
learning_rate = 0.01
checkpoint_every = 4
final_samples = 512
[observables]
names = sx, xx_correlation, energy
")
set(same /variables /optimizer /samples /log_prob /observables /vmc/energy /vmc/energy_error
         /vmc/grad_norm /vmc/distinct_fraction)
# train_checks(TAG HALF WHAT ARGS...): train.ini with ARGS on 1 and 2 threads (TAG1.h5, TAG2.h5)
# and as HALF iterations + --resume (TAGr.h5), all bitwise the same; /log_prob and the
# observables (sx, xx_correlation, energy of the symmetrised state) against numpy
# (scripts/check_output.py and scripts/obs_ref.py through arnn_ref.py; in the normal build).
function(train_checks tag half what)
    ars_run(r train.ini --quiet --threads 1 --output ${tag}1.h5 ${ARGN})
    ars_expect_rc(r 0 "${what}, 1 thread")
    ars_run(r train.ini --quiet --threads 2 --output ${tag}2.h5 ${ARGN})
    ars_expect_rc(r 0 "${what}, 2 threads")
    ars_h5same(${WORK}/${tag}1.h5 ${WORK}/${tag}2.h5 "${what} with 1 and 2 threads" ${same})
    ars_run(r train.ini --quiet --output ${tag}r.h5 ${ARGN} --set vmc.iterations=${half})
    ars_expect_rc(r 0 "${what}, ${half} iterations")
    ars_run(r train.ini --quiet --output ${tag}r.h5 ${ARGN} --resume)
    ars_expect_rc(r 0 "${what}, --resume")
    ars_h5same(${WORK}/${tag}1.h5 ${WORK}/${tag}r.h5 "${what}: ${half} iterations + --resume"
               ${same})
    if(SANITIZED)
        return() # the numpy checks read the same bits in the normal build (CI time)
    endif()
    check_output(${WORK}/${tag}1.h5 "${what}")
    ars_expect_obs_ref(${WORK}/${tag}1.h5 "${what}")
endfunction()
if(SANITIZED) # the same code, fewer iterations (CI time)
    train_checks(t 4 "training with both symmetries" --set vmc.iterations=8)
else()
    train_checks(t 8 "training with both symmetries")
endif()
py_check(${WORK}/t1.h5 "
ref = f['reference/energy'][()]
assert abs(ref - (-18.0617854180)) < 1e-8, 'reference %r' % ref
sx = f['observables/sx/mean'][()]
assert (sx == 0).all(), 'sx must vanish in a sector: %r' % sx
assert np.isfinite(f['vmc/energy'][()]).all()
print('OK')" "the training output")

# --resume with another symmetry is refused and leaves the file as it was.
file(SHA256 ${WORK}/tr.h5 before)
ars_run(r train.ini --quiet --output tr.h5 --resume --set vmc.iterations=20 --set model.symmetrize=reflection)
ars_expect_rc(r 2 "--resume with another symmetrize")
ars_expect_one_line("${r_err}" "the file's /model symmetrize is both but the config has reflection \\(\\[model\\] symmetrize\\)" "--resume with another symmetrize")
file(SHA256 ${WORK}/tr.h5 after)
if(NOT before STREQUAL after)
    ars_fail("a refused --resume changed the file")
endif()

# 3b. Translations of the ring with the other two symmetries (|G| = 40): training is bitwise the
#     same for 1 and 2 threads and across --resume, /log_prob and the observables match numpy,
#     the file records the canonical name.
set(trans_sym "translation, reflection, spin_flip")
set(trans_name "spin_flip, reflection, translation")
set(trans_iters 4)
if(SANITIZED) # the same code with |G| = 10 and fewer iterations (CI time)
    set(trans_sym "translation")
    set(trans_name "translation")
    set(trans_iters 2)
endif()
math(EXPR trans_half "${trans_iters} / 2")
# 128 final samples: numpy's observables cost |G| = 40 passes per flipped configuration.
set(trans --set "model.symmetrize=${trans_sym}" --set vmc.iterations=${trans_iters}
          --set vmc.checkpoint_every=1 --set vmc.final_samples=128)
train_checks(x ${trans_half} "translation training" ${trans})
py_check(${WORK}/x1.h5 "
assert f['model'].attrs['symmetrize'] == '${trans_name}', f['model'].attrs['symmetrize']
print('OK')" "the translation file's symmetrize attribute")
ars_run(r train.ini --quiet --output xo.h5 ${trans} --set hamiltonian.pbc=false)
ars_expect_rc(r 2 "translation on an open chain")
ars_expect_one_line("${r_err}" "\\[model\\] symmetrize: translation needs a ring" "translation on an open chain")

# 4. mode = exact in the sector total_sz = 1 (6 of 10 spins up): the lowest energy of that
#    block, against numpy's dense diagonalisation of the Pauli XXZ ring restricted to it: the
#    Heisenberg ring by the Bethe ansatz, Delta = 0.5 by Lanczos in the sector.
foreach(case "heisenberg;1.0;Bethe ansatz" "xxz;0.5;Lanczos in the \\[system\\] total_sz sector")
    list(GET case 0 type)
    list(GET case 1 delta)
    list(GET case 2 method)
    ars_run(r train.ini --output ex.h5 --set run.mode=exact --set system.total_sz=1
            --set observables.names=none --set model.symmetrize=reflection
            --set hamiltonian.type=${type} --set hamiltonian.Delta=${delta})
    ars_expect_rc(r 0 "mode = exact in total_sz = 1 (${type})")
    ars_expect_match("${r_out}" "\\(${method}\\)" "mode = exact: the method (${type})")
    py_check(${WORK}/ex.h5 "
import itertools
L = 10
states = [s for s in itertools.product((0, 1), repeat=L) if sum(s) == 6]
index = {s: k for k, s in enumerate(states)}
H = np.zeros((len(states), len(states)))
for k, s in enumerate(states):
    for i in range(L):
        j = (i + 1) % L
        if s[i] == s[j]:
            H[k, k] += ${delta}
        else:
            H[k, k] -= ${delta}
            t = list(s); t[i], t[j] = s[j], s[i]
            H[index[tuple(t)], k] += 2.0
e0 = np.linalg.eigvalsh(H)[0]
got = f['reference/energy'][()]
assert abs(got - e0) < 1e-9, 'exact %.12f, dense %.12f' % (got, e0)
print('OK')" "mode = exact in a sector (${type})")
endforeach()
