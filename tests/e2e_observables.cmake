# e2e_observables: `[observables] names = all` writes /observables, and every value there equals
# an independent numpy recomputation from the file's own /samples (scripts/obs_ref.py: full
# forward passes of scripts/arnn_ref.py, the Hamiltonian's matrix elements written anew):
#  - mode = sample, periodic TFIM, and open XXZ with the Marshall sign (signed ratios);
#  - mode = train: measured on the final samples;
#  - spin 1: the diagonal observables and renyi2;
# - user operators ([observables] operator, operators_file): spin 1 in a sector with the Marshall
#   sign and a symmetry, and spin 1/2 with a phase network (a complex operator), against the
#   state vector times terms_ref.py's sparse matrix;
# and the observables are bitwise the same for 1 and 2 threads.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

file(WRITE ${WORK}/obs.ini "[system]
size = 8
[model]
layers = 3
features = 6
kernel_dilation = 1, 2, 1
activation = tanh
[sampler]
n_samples = 1500
chunk_size = 128
seed = 3
[hamiltonian]
type = tfim
h = 0.8
[observables]
names = all
renyi2_cuts = 2, 4, 5
")

function(check_obs file what)
    execute_process(COMMAND ${PYTHON} ${SRC}/scripts/obs_ref.py ${file}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        ars_fail("${what}: obs_ref.py disagrees (${rc}):\n${out}${err}")
    endif()
    if(NOT out MATCHES "every observable matches")
        ars_fail("${what}: obs_ref.py did not compare anything:\n${out}${err}")
    endif()
    execute_process(COMMAND ${PYTHON} ${SRC}/scripts/check_output.py ${file}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        ars_fail("${what}: check_output.py rejected the file (${rc}):\n${out}${err}")
    endif()
endfunction()

ars_run(r obs.ini --output pbc.h5 --threads 2)
ars_expect_rc(r 0 "sample, tfim pbc")
ars_expect_match("${r_out}" "observables from 1500 samples" "the summary on stdout")
ars_expect_match("${r_out}" "renyi2 +S2\\(2\\) = " "the renyi2 line")
check_obs(${WORK}/pbc.h5 "sample, tfim pbc")

ars_run(r obs.ini --output pbc1.h5 --threads 1)
ars_expect_rc(r 0 "sample, tfim pbc, 1 thread")
ars_h5same(${WORK}/pbc.h5 ${WORK}/pbc1.h5 "observables with 1 and 2 threads" /observables)

ars_run(r obs.ini --output xxz.h5 --set hamiltonian.type=xxz --set hamiltonian.Delta=1.5
        --set hamiltonian.pbc=false --set hamiltonian.marshall_sign=true)
ars_expect_rc(r 0 "sample, open xxz with Marshall sign")
check_obs(${WORK}/xxz.h5 "sample, open xxz with Marshall sign")

# The XY chain in a field (gamma: parallel pairs flip too) with D and hz: the energy's local
# estimator against numpy's.
ars_run(r obs.ini --output xy.h5 --set hamiltonian.type=xxz --set hamiltonian.Delta=0
        --set hamiltonian.gamma=0.6 --set hamiltonian.hz=0.4 --set hamiltonian.D=0.3)
ars_expect_rc(r 0 "sample, XY chain in a field")
check_obs(${WORK}/xy.h5 "sample, XY chain in a field")

ars_run(r obs.ini --output train.h5 --set run.mode=train --set vmc.iterations=4
        --set sampler.n_samples=256 --set vmc.final_samples=1000)
ars_expect_rc(r 0 "train")
check_obs(${WORK}/train.h5 "train (final samples)")

ars_run(r obs.ini --output spin1.h5 --set system.spin=1 --set system.size=6
        "--set=observables.names=sz, magnetization, zz_connected, structure_factor, renyi2, string_order"
        --set observables.renyi2_cuts=3)
ars_expect_rc(r 0 "spin 1")
check_obs(${WORK}/spin1.h5 "spin 1")
# `all` on spin 1 measures what applies: string_order, not sx or xx_correlation; on an open
# chain (the string from the centre site).
ars_run(r obs.ini --output spin1all.h5 --set system.spin=1 --set system.size=5
        --set hamiltonian.type=heisenberg --set hamiltonian.pbc=false --set observables.names=all
        --set observables.renyi2_cuts=2)
ars_expect_rc(r 0 "spin 1, names = all")
ars_expect_match("${r_out}" "string_order" "string_order on spin 1 with names = all")
ars_expect_no_match("${r_out}" " sx " "no sx on spin 1 with names = all")
execute_process(COMMAND ${PYTHON} ${SRC}/scripts/obs_ref.py ${WORK}/spin1all.h5
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT out MATCHES "string_order +max mean difference [0-9.e-]+")
    ars_fail("spin 1, names = all: string_order not compared:\n${out}${err}")
endif()

# User operators ([observables] operator and operators_file; no names needed): spin 1 in the
# sector total_sz = 0 with the Marshall sign and the spin-flip symmetry, a bond S.S between two
# sites, a same-site product, an i-term summed over the ring, and an operator that leaves the
# sector (0); each against numpy's state vector times a matrix of scripts/terms_ref.py.
file(WRITE ${WORK}/ops.txt "# more operators: NAME: term
stag: 1 Sz(0)
stag: -1 Sz(1)   # lines of one name add up
flip: 1 Sx(2)
")
set(ops1 --set system.spin=1 --set system.size=6 --set system.total_sz=0
    --set hamiltonian.type=heisenberg --set hamiltonian.marshall_sign=true
    --set model.symmetrize=spin_flip --set observables.names=none
    "--set=observables.operator=bond: 1 Sz(1) Sz(3)"
    "--set=observables.operator=bond: 0.5 S+(1) S-(3)"
    "--set=observables.operator=bond: 0.5 S-(1) S+(3)"
    "--set=observables.operator=d2: 1 Sz(4) Sz(4)"
    "--set=observables.operator=xy: 0.5 S+(i) S-(i+1)"
    "--set=observables.operator=xy: 0.5 S-(i) S+(i+1)"
    --set observables.operators_file=${WORK}/ops.txt)
ars_run(r obs.ini --output ops1.h5 ${ops1} --threads 2)
ars_expect_rc(r 0 "spin-1 user operators")
ars_expect_match("${r_out}" "bond +-?[0-9.]+ \\+- [0-9.e-]+  variance [0-9.e-]+  \\(operator\\)"
                 "a user operator's line on stdout")
check_obs(${WORK}/ops1.h5 "spin-1 user operators")
execute_process(COMMAND ${PYTHON} -c "import h5py, sys
g = h5py.File(sys.argv[1], 'r')['observables']
print(g['bond'].attrs['definition'], '|', g['stag'].attrs['definition'], '|', sorted(g))"
                ${WORK}/ops1.h5 OUTPUT_VARIABLE defs RESULT_VARIABLE rc)
ars_expect_match("${defs}" "^1 Sz\\(1\\) Sz\\(3\\); 0\\.5 S\\+\\(1\\) S-\\(3\\); 0\\.5 S-\\(1\\) S\\+\\(3\\) \\| 1 Sz\\(0\\); -1 Sz\\(1\\) \\| \\['bond', 'd2', 'flip', 'stag', 'xy'\\]"
                 "the operators' definitions and groups")
ars_run(r obs.ini --output ops1t.h5 ${ops1} --threads 1)
ars_expect_rc(r 0 "spin-1 user operators, 1 thread")
ars_h5same(${WORK}/ops1.h5 ${WORK}/ops1t.h5 "user operators with 1 and 2 threads" /observables)

# Spin 1/2 with a phase network: a complex operator (the spin current, an odd number of Sy) and
# a Pauli X, on an open chain.
ars_run(r obs.ini --output opsphase.h5 --set phase.type=conv --set hamiltonian.pbc=false
        "--set=observables.names=sx, energy"
        "--set=observables.operator=current: 1 Sx(i) Sy(i+1)"
        "--set=observables.operator=current: -1 Sy(i) Sx(i+1)"
        "--set=observables.operator=x5: 1 X(5)")
ars_expect_rc(r 0 "user operators with a phase network")
check_obs(${WORK}/opsphase.h5 "user operators with a phase network")
