# e2e_mpi (built with -DARSAMPLER_MPI=ON only): mpirun -np 1, 2 and 3 give bitwise identical
# samples and observables, and a short training gives bitwise identical variables, optimiser
# state, energy log, final samples and observables, also with --resume across rank counts, and
# so does a time evolution (mode = evolve, with --resume across rank counts, and with
# regularization = snr or reweight), and so does a projected state ([model] projection); a
# config error (also one found later: a Hamiltonian, --resume) is reported once and every rank
# exits with status 2; a rank that cannot write ends the job with a clear message instead of a
# hang.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

set(ENV{OMPI_ALLOW_RUN_AS_ROOT} 1)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT_CONFIRM} 1)
find_program(MPIRUN mpirun)
if(NOT MPIRUN)
    ars_fail("mpirun not found: run scripts/bootstrap (it installs openmpi-bin)")
endif()

# mpi_run(PREFIX NP ARGS...): mpirun -np NP arsampler ARGS, at most 120 s.
function(mpi_run prefix np)
    execute_process(COMMAND ${MPIRUN} -np ${np} --oversubscribe ${ARSAMPLER} ${ARGN}
                    WORKING_DIRECTORY ${WORK} TIMEOUT 120
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    set(${prefix}_rc "${rc}" PARENT_SCOPE)
    set(${prefix}_out "${out}" PARENT_SCOPE)
    set(${prefix}_err "${err}" PARENT_SCOPE)
endfunction()

# Sampling: 3001 samples in 24 chunks of 128 (the last one short), split 24 / 12+12 / 8+8+8,
# with every observable and a user operator (the ranks share their chunks too), in a sector and
# symmetrised.
set(sample ${QUICKSTART} --quiet --set sampler.n_samples=3001 --set sampler.chunk_size=128
    --set system.size=12 --set system.total_sz=0 --set model.symmetrize=both
    --set observables.names=all --set hamiltonian.type=heisenberg
    --set hamiltonian.marshall_sign=true "--set=observables.operator=bond: 0.5 S+(3) S-(7)"
    "--set=observables.operator=bond: 0.5 S-(3) S+(7)")
foreach(np 1 2 3)
    mpi_run(r ${np} ${sample} --threads 1 --output s${np}.h5)
    ars_expect_rc(r 0 "sampling with ${np} ranks")
endforeach()
ars_run(r ${sample} --threads 2 --output s0.h5)
ars_expect_rc(r 0 "sampling without mpirun")
foreach(np 1 2 3)
    ars_h5same(${WORK}/s0.h5 ${WORK}/s${np}.h5 "samples of 1 process vs ${np} ranks"
               /samples /log_prob /variables /observables)
endforeach()

file(WRITE ${WORK}/train.ini "[run]
mode = train
[system]
size = 10
[model]
layers = 3
features = 6
kernel_dilation = 1, 2, 4
activation = tanh
[sampler]
n_samples = 700
chunk_size = 64
seed = 5
[hamiltonian]
type = tfim
h = 0.9
[vmc]
iterations = 24
optimizer = adam
learning_rate = 0.01
checkpoint_every = 8
final_samples = 300
[observables]
names = sz, energy, renyi2
operator = x2: 1 X(2)
")
set(same /variables /optimizer /samples /log_prob /local_energy /observables /vmc/energy
         /vmc/energy_error /vmc/grad_norm /vmc/distinct_fraction)
ars_run(r train.ini --quiet --threads 2 --output t0.h5)
ars_expect_rc(r 0 "training without mpirun")
foreach(np 1 2 3)
    mpi_run(r ${np} train.ini --quiet --threads 1 --output t${np}.h5)
    ars_expect_rc(r 0 "training with ${np} ranks")
    ars_h5same(${WORK}/t0.h5 ${WORK}/t${np}.h5 "training: 1 process vs ${np} ranks" ${same})
endforeach()

# SR in sample space (300 samples < 930 parameters): the Gram tiles are shared out too. With
# SPRING (optimizer = spring), so that its prior and its state (/optimizer/direction) are too.
set(ss --set model.features=16 --set sampler.n_samples=300 --set vmc.iterations=6
       --set vmc.optimizer=spring --set vmc.momentum=0.9)
ars_run(r train.ini --quiet --threads 2 --output ss0.h5 ${ss})
ars_expect_rc(r 0 "sample-space SR without mpirun")
foreach(np 2 3)
    mpi_run(r ${np} train.ini --quiet --threads 1 --output ss${np}.h5 ${ss})
    ars_expect_rc(r 0 "sample-space SR with ${np} ranks")
    ars_h5same(${WORK}/ss0.h5 ${WORK}/ss${np}.h5 "sample-space SR: 1 process vs ${np} ranks" ${same})
endforeach()
# The same with the Gram tiles from float32 products (sr_dtype = float32), 1100 samples (< the
# 3 394 parameters of 32 features) so that the 512-wide float32 tiles are 3 x 3 and shared out,
# the local energies' windows in float32 (eloc_dtype), and max_step, whose step lengths must
# agree too; symmetrised, so that each rank's gradients take its own chunks' images from its
# draw (ars_sampler_keep_images).
set(sf --set model.features=32 --set sampler.n_samples=1100 --set vmc.iterations=4
       --set vmc.optimizer=spring --set vmc.sr_dtype=float32 --set vmc.eloc_dtype=float32
       --set vmc.max_step=0.02 --set model.symmetrize=both)
ars_run(r train.ini --quiet --threads 2 --output sf0.h5 ${sf})
ars_expect_rc(r 0 "float32 SR products without mpirun")
foreach(np 2 3)
    mpi_run(r ${np} train.ini --quiet --threads 1 --output sf${np}.h5 ${sf})
    ars_expect_rc(r 0 "float32 SR products with ${np} ranks")
    ars_h5same(${WORK}/sf0.h5 ${WORK}/sf${np}.h5 "float32 SR products: 1 process vs ${np} ranks"
               ${same} /vmc/step_length)
endforeach()
ars_run(r train.ini --quiet --threads 2 --output sf64.h5 ${sf} --set vmc.sr_dtype=float64
        --set vmc.eloc_dtype=float64)
ars_h5differ(${WORK}/sf0.h5 ${WORK}/sf64.h5 "float32 vs float64 SR products and local energies"
             /variables)

# A phase network (complex local energies, the split SR): the same bits for 1 process and 2
# or 3 ranks; the phase block in sample space (300 samples < its 405 parameters).
set(ph --set phase.type=conv --set phase.features=24 --set hamiltonian.type=xxz
       --set hamiltonian.Delta=0.5 --set sampler.n_samples=300 --set vmc.iterations=6)
ars_run(r train.ini --quiet --threads 2 --output ph0.h5 ${ph})
ars_expect_rc(r 0 "a phase network without mpirun")
foreach(np 2 3)
    mpi_run(r ${np} train.ini --quiet --threads 1 --output ph${np}.h5 ${ph})
    ars_expect_rc(r 0 "a phase network with ${np} ranks")
    ars_h5same(${WORK}/ph0.h5 ${WORK}/ph${np}.h5 "a phase network: 1 process vs ${np} ranks"
               ${same} /phase /local_energy_imag /vmc/energy_imag)
endforeach()

# A projected state ([model] projection): weights, complex O_P gathered from every rank, SR on
# its 2n rows: the same bits for 1 process and 2 or 3 ranks.
file(WRITE ${WORK}/projection.ini "[run]
mode = train
[system]
size = 8
total_sz = 0
[model]
layers = 2
features = 4
activation = tanh
symmetrize = translation
projection = true
[phase]
type = conv
layers = 2
features = 3
[sampler]
n_samples = 300
chunk_size = 32
seed = 4
[hamiltonian]
type = j1j2
J2 = 0.6
pbc = true
[vmc]
iterations = 5
final_samples = 500
")
set(psame /variables /samples /log_prob /local_energy /local_energy_imag /importance_weight
          /vmc/energy /vmc/energy_error /vmc/grad_norm /vmc/step_length)
ars_run(r projection.ini --quiet --threads 2 --output pr0.h5)
ars_expect_rc(r 0 "a projected state without mpirun")
foreach(np 2 3)
    mpi_run(r ${np} projection.ini --quiet --threads 1 --output pr${np}.h5)
    ars_expect_rc(r 0 "a projected state with ${np} ranks")
    ars_h5same(${WORK}/pr0.h5 ${WORK}/pr${np}.h5 "a projected state: 1 process vs ${np} ranks"
               ${psame})
endforeach()

# Time evolution (mode = evolve, a real-time quench from |+x>): the same bits for 1 process and
# 2 ranks, and 2 ranks to t = 0.04 resumed with 3 ranks to t = 0.08.
file(WRITE ${WORK}/evolve.ini "[run]
mode = evolve
[system]
size = 8
[model]
layers = 2
features = 6, 2
init = x_polarized
[phase]
type = conv
features = 6
[sampler]
n_samples = 300
chunk_size = 64
[hamiltonian]
type = tfim
[evolve]
t_end = 0.08
dt = 0.01
tolerance = 1e-2
measure_every = 0.04
measure_samples = 300
[observables]
names = sx
operator = zz: 1 Z(i) Z(i+2)
")
set(ev_same /evolution/time /evolution/energy /evolution/observables /evolution/k0
    /evolution/steps/dt /evolution/steps/error /evolution/steps/residual /variables)
ars_run(r evolve.ini --quiet --threads 2 --output ev0.h5)
ars_expect_rc(r 0 "an evolution without mpirun")
mpi_run(r 2 evolve.ini --quiet --threads 1 --output ev2.h5)
ars_expect_rc(r 0 "an evolution with 2 ranks")
ars_h5same(${WORK}/ev0.h5 ${WORK}/ev2.h5 "an evolution: 1 process vs 2 ranks" ${ev_same})
mpi_run(r 2 evolve.ini --quiet --threads 1 --output evr.h5 --set evolve.t_end=0.04)
ars_expect_rc(r 0 "an evolution to t = 0.04 with 2 ranks")
mpi_run(r 3 evolve.ini --quiet --threads 1 --output evr.h5 --resume)
ars_expect_rc(r 0 "--resume of the evolution with 3 ranks")
ars_h5same(${WORK}/ev0.h5 ${WORK}/evr.h5 "an evolution: 2 ranks + --resume with 3 vs 1 process"
           ${ev_same})
# The spectral regularisation: every rank diagonalises the same exchanged S.
set(snr --set evolve.regularization=snr --set evolve.diag_shift=0)
ars_run(r evolve.ini --quiet --threads 2 --output evs0.h5 ${snr})
ars_expect_rc(r 0 "an snr evolution without mpirun")
mpi_run(r 2 evolve.ini --quiet --threads 1 --output evs2.h5 ${snr})
ars_expect_rc(r 0 "an snr evolution with 2 ranks")
ars_h5same(${WORK}/evs0.h5 ${WORK}/evs2.h5 "an snr evolution: 1 process vs 2 ranks" ${ev_same})
# Reweighted stages: every rank computes the same weights from the gathered log psi.
set(rw --set evolve.reweight=true)
ars_run(r evolve.ini --quiet --threads 2 --output evw0.h5 ${rw})
ars_expect_rc(r 0 "a reweighted evolution without mpirun")
mpi_run(r 3 evolve.ini --quiet --threads 1 --output evw3.h5 ${rw})
ars_expect_rc(r 0 "a reweighted evolution with 3 ranks")
ars_h5same(${WORK}/evw0.h5 ${WORK}/evw3.h5 "a reweighted evolution: 1 process vs 3 ranks"
           ${ev_same})

# Stop after 12 iterations with 2 ranks, resume to 24 with 3 ranks.
mpi_run(r 2 train.ini --quiet --threads 1 --output tr.h5 --set vmc.iterations=12)
ars_expect_rc(r 0 "12 iterations with 2 ranks")
mpi_run(r 3 train.ini --quiet --threads 1 --output tr.h5 --resume)
ars_expect_rc(r 0 "--resume to 24 iterations with 3 ranks")
ars_h5same(${WORK}/t0.h5 ${WORK}/tr.h5 "2 ranks + --resume with 3 ranks vs 1 process" ${same})

# refused_once(WHAT REGEX ARGS...): 3 ranks run ARGS; every rank exits with status 2 and the
# message matching REGEX appears exactly once (from rank 0).
function(refused_once what regex)
    mpi_run(r 3 ${ARGN})
    ars_expect_rc(r 2 "${what} with 3 ranks")
    ars_expect_count("${r_err}" "${regex}" 1 "${what} with 3 ranks: the message")
endfunction()

# A config error, and errors found after the config is read (a Hamiltonian the chain does not
# allow, --resume of a sampling config): one message each, exit status 2 on every rank.
refused_once("a config error" "layers: must be an integer"
             train.ini --quiet --set model.layers=0 --output bad.h5)
refused_once("a bad Hamiltonian" "marshall_sign with pbc needs an even size"
             train.ini --quiet --set hamiltonian.marshall_sign=true --set system.size=9
             --output bad.h5)
refused_once("--resume of a sampling config" "--resume needs \\[run\\] mode = train"
             ${QUICKSTART} --quiet --resume --output bad.h5)

# Rank 0 cannot write its checkpoint (its folder became a file): the job ends, no hang. The
# output goes through the symbolic link d -> d.dir, which rename(2) replaces in one step by a
# link to a regular file: at no moment is there no d that a checkpoint could recreate as a
# folder (moving the folder away and creating the file was two steps, and a checkpoint written
# between them let the run go on).
file(MAKE_DIRECTORY ${WORK}/d.dir)
file(WRITE ${WORK}/d.file "")
file(CREATE_LINK d.dir ${WORK}/d SYMBOLIC)
execute_process(COMMAND bash -c "${MPIRUN} -np 2 --oversubscribe ${ARSAMPLER} train.ini --quiet --threads 1 --output d/x.h5 --set vmc.iterations=100000 --set vmc.checkpoint_every=4 > fail.out 2> fail.err & pid=$!
for i in $(seq 600); do [ -e d/x.h5 ] && break; sleep 0.1; done
ln -s d.file d.new && mv -T d.new d
wait $pid" WORKING_DIRECTORY ${WORK} TIMEOUT 120 RESULT_VARIABLE rc)
file(READ ${WORK}/fail.err err)
if(rc EQUAL 0 OR NOT err MATCHES "arsampler: error: cannot [^\n]*d/x.h5[^\n]*\n.*rank 0 cannot write its output; ending all 2 ranks")
    ars_fail("a failing rank 0 with 2 ranks: exit status ${rc}, stderr:\n${err}")
endif()
